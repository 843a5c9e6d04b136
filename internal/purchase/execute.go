package purchase

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// Execute buys an approved plan's tranches through the connection's role.
// Each tranche's step state is written before and after its AWS call, so
// a retried or crashed execution never buys twice: a Savings Plan is
// bought again with the same client token (AWS returns the first
// purchase), and an EC2 reservation left "buying" is looked up in the
// inventory, never bought blindly again. A tranche is done, and the plan
// done once all are, only when the inventory shows the commitment.
// Tranches due later are queued with their start (laddering).
func Execute(ctx context.Context, st *store.Store, acct Account, tenant crossbill.TenantID, id string, by store.AuditEntry) (View, error) {
	const op = "purchase execute"
	p, err := st.PurchasePlan(ctx, tenant, id)
	if err != nil {
		return View{}, err
	}
	conn, err := st.TenantConnection(ctx, tenant, p.ConnectionID)
	if err != nil {
		return View{}, err
	}
	if err := checkConnection(conn); err != nil {
		return View{}, err
	}
	if p.State == StatePending {
		ap, err := sync(ctx, st, tenant, id, by)
		if err != nil {
			return View{}, err
		}
		if ap.State == approval.Pending {
			return View{}, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is not approved yet: a person other than %s must approve it first (`crossbill commitments approve %s`, or approval %s in the Approvals inbox)", id, author(p), id, ap.ID)
		}
		if p, err = st.PurchasePlan(ctx, tenant, id); err != nil {
			return View{}, err
		}
	}
	switch p.State {
	case StateApproved, StateExecuting:
	case StateDone:
		return Get(ctx, st, tenant, id)
	default:
		return View{}, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is %s: only an approved plan is executed", id, p.State)
	}
	v, err := view(p)
	if err != nil {
		return View{}, err
	}
	if p.State == StateApproved {
		// Guardrails may have tightened since the plan was written.
		if err := checkGuardrails(ctx, st, tenant, v.Plan, id); err != nil {
			return View{}, err
		}
		ap, _ := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, id)
		if err := st.MovePurchasePlan(ctx, tenant, id, []string{StateApproved}, StateExecuting, by, map[string]string{"approved_by": decidedBy(ap)}); err != nil {
			return View{}, err
		}
	}
	var notes []string
	for _, t := range p.Tranches {
		note, err := executeTranche(ctx, st, acct, tenant, v.Plan, id, t, by)
		if err != nil {
			return View{}, fmt.Errorf("tranche %d of plan %s: %w", t.Index, id, err)
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	if p, err = st.PurchasePlan(ctx, tenant, id); err != nil {
		return View{}, err
	}
	finished := true
	for _, t := range p.Tranches {
		finished = finished && (t.State == TrancheDone || t.State == TrancheCancelled)
	}
	if finished && p.State == StateExecuting {
		if err := st.MovePurchasePlan(ctx, tenant, id, []string{StateExecuting}, StateDone, by, nil); err != nil {
			return View{}, err
		}
	}
	out, err := Get(ctx, st, tenant, id)
	out.Notes = notes
	return out, err
}

// executeTranche moves one tranche as far as it goes now and says what
// it waits for, if anything.
func executeTranche(ctx context.Context, st *store.Store, acct Account, tenant crossbill.TenantID, plan Plan, id string, t store.PurchaseTranche, by store.AuditEntry) (string, error) {
	tp := plan.Ladder[t.Index]
	retry := t.State == TrancheBuying
	switch t.State {
	case TrancheDone, TrancheCancelled:
		return "", nil
	case TrancheFailed:
		return fmt.Sprintf("tranche %d failed: %s", t.Index, t.Error), nil
	case TranchePlanned:
		if isServiceReservation(plan.Type) && t.Due.After(st.Now().Add(time.Hour)) {
			// AWS cannot queue these reservations: bought once due.
			return fmt.Sprintf("tranche %d is due on %s: %s reservations cannot be queued, run execute again then", t.Index, t.Due.Format(time.DateOnly), plan.Type), nil
		}
		if err := st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TranchePlanned}, store.TrancheUpdate{State: TrancheBuying},
			by, map[string]any{"offering": plan.Offering.ID, "client_token": t.ClientToken, "due": t.Due, "upfront": tp.Upfront}); err != nil {
			return "", err
		}
		t.State = TrancheBuying
	}
	if t.State == TrancheBuying {
		cid, err := acct.buy(ctx, plan, tp, t, retry, st.Now())
		if err != nil {
			if refused(err) {
				// AWS answered no: nothing was bought, so the tranche may be
				// tried again once the cause is fixed.
				_ = st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TrancheBuying}, store.TrancheUpdate{State: TranchePlanned, Error: err.Error()}, by, nil)
			}
			return "", err
		}
		if err := st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TrancheBuying}, store.TrancheUpdate{State: TrancheBought, CommitmentID: cid}, by, nil); err != nil {
			return "", err
		}
		t.State, t.CommitmentID = TrancheBought, cid
	}
	if plan.Kind == KindSale {
		// AWS's answer is the listing itself: it is on the Marketplace.
		return "", st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TrancheBought}, store.TrancheUpdate{State: TrancheDone}, by, nil)
	}
	state, found, err := acct.inventoryState(ctx, plan, t.CommitmentID)
	if err != nil {
		return "", err
	}
	switch {
	case !found:
		return fmt.Sprintf("tranche %d: %s was bought; the inventory does not show it yet, run execute again to finish", t.Index, t.CommitmentID), nil
	case state == string(sptypes.SavingsPlanStatePaymentFailed):
		return "", st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TrancheBought}, store.TrancheUpdate{State: TrancheFailed, Error: "AWS could not charge the payment: " + state}, by, nil)
	}
	return "", st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TrancheBought}, store.TrancheUpdate{State: TrancheDone}, by, map[string]string{"inventory_state": state})
}

// refused reports an error AWS answered with a client error (4xx): the
// request was refused, so nothing was bought. A transport failure or a
// server error leaves the purchase in doubt.
func refused(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500
}

// buy makes one tranche's purchase and returns the commitment's ID.
func (a Account) buy(ctx context.Context, plan Plan, tp TranchePlan, t store.PurchaseTranche, retry bool, now time.Time) (string, error) {
	const op = "purchase"
	var start *time.Time
	if t.Due.After(now.Add(time.Hour)) {
		start = aws.Time(t.Due) // queued until its tranche is due
	}
	if plan.Kind == KindSale {
		return a.list(ctx, plan, t)
	}
	if isServiceReservation(plan.Type) {
		return a.buyServiceReservation(ctx, plan, tp, t, retry)
	}
	if isSavingsPlan(plan.Type) {
		in := &savingsplans.CreateSavingsPlanInput{
			SavingsPlanOfferingId: aws.String(plan.Offering.ID), Commitment: aws.String(strconv.FormatFloat(tp.HourlyCommitment, 'f', 3, 64)),
			ClientToken: aws.String(t.ClientToken), PurchaseTime: start,
			Tags: map[string]string{"crossbill-purchase-plan": t.ClientToken},
		}
		if plan.Payment == "Partial Upfront" {
			in.UpfrontPaymentAmount = aws.String(strconv.FormatFloat(tp.Upfront, 'f', 2, 64))
		}
		out, err := a.savingsPlans().CreateSavingsPlan(ctx, in)
		if err != nil {
			return "", awsclient.Classify(op, err)
		}
		return aws.ToString(out.SavingsPlanId), nil
	}
	if retry {
		// EC2 takes no client token: a reservation left "buying" by a
		// crash may exist. Look for it; never buy blindly again.
		id, err := a.findReservation(ctx, plan, tp, t)
		if err != nil {
			return "", err
		}
		if id == "" {
			return "", crossbill.Errorf(crossbill.CodeConflict, op, "the purchase of %d %s was interrupted at %s and the inventory does not show it yet: AWS may still be processing it, so crossbill does not buy again; run execute again in a few minutes, or check the account's reservations",
				tp.Count, plan.InstanceType, t.UpdatedAt.Format(time.RFC3339))
		}
		return id, nil
	}
	out, err := a.ec2(plan.Region).PurchaseReservedInstancesOffering(ctx, &ec2.PurchaseReservedInstancesOfferingInput{
		ReservedInstancesOfferingId: aws.String(plan.Offering.ID), InstanceCount: aws.Int32(int32(tp.Count)), PurchaseTime: start,
	})
	if err != nil {
		return "", awsclient.Classify(op, err)
	}
	return aws.ToString(out.ReservedInstancesId), nil
}

// findReservation finds a reservation matching an interrupted tranche:
// same type, count and term, started (or queued) since the step began.
func (a Account) findReservation(ctx context.Context, plan Plan, tp TranchePlan, t store.PurchaseTranche) (string, error) {
	out, err := a.ec2(plan.Region).DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-type"), Values: []string{plan.InstanceType}}},
	})
	if err != nil {
		return "", awsclient.Classify("purchase reconcile", err)
	}
	since := t.UpdatedAt.Add(-time.Minute)
	for _, r := range out.ReservedInstances {
		if aws.ToInt32(r.InstanceCount) == int32(tp.Count) && aws.ToInt64(r.Duration) == termSeconds(plan.TermYears) &&
			!aws.ToTime(r.Start).Before(since) && r.State != ec2types.ReservedInstanceStateRetired {
			return aws.ToString(r.ReservedInstancesId), nil
		}
	}
	return "", nil
}

// inventoryState reads a bought commitment from the account's inventory.
func (a Account) inventoryState(ctx context.Context, plan Plan, id string) (string, bool, error) {
	const op = "purchase inventory"
	if isSavingsPlan(plan.Type) {
		out, err := a.savingsPlans().DescribeSavingsPlans(ctx, &savingsplans.DescribeSavingsPlansInput{SavingsPlanIds: []string{id}})
		if err != nil {
			return "", false, awsclient.Classify(op, err)
		}
		for _, sp := range out.SavingsPlans {
			if aws.ToString(sp.SavingsPlanId) == id {
				return string(sp.State), true, nil
			}
		}
		return "", false, nil
	}
	if isServiceReservation(plan.Type) {
		return a.serviceReservationState(ctx, plan, id)
	}
	out, err := a.ec2(plan.Region).DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{ReservedInstancesIds: []string{id}})
	if err != nil {
		return "", false, awsclient.Classify(op, err)
	}
	for _, r := range out.ReservedInstances {
		if aws.ToString(r.ReservedInstancesId) == id {
			return string(r.State), true, nil
		}
	}
	return "", false, nil
}

// Cancel cancels a plan: before approval, its approval is withdrawn; after
// purchase, each tranche whose Savings Plan is still queued is deleted
// (DeleteQueuedSavingsPlan) and tranches not yet bought are dropped. A
// started commitment cannot be cancelled: the answer names them.
// open is called only when a tranche was bought: a plan not yet bought is
// cancelled without AWS.
func Cancel(ctx context.Context, st *store.Store, open func() (Account, error), tenant crossbill.TenantID, id, reason string, by store.AuditEntry) (View, error) {
	const op = "purchase cancel"
	if err := crossbill.CheckText(op, "reason", reason); err != nil {
		return View{}, err
	}
	p, err := st.PurchasePlan(ctx, tenant, id)
	if err != nil {
		return View{}, err
	}
	v, err := view(p)
	if err != nil {
		return View{}, err
	}
	switch p.State {
	case StatePending, StateApproved:
		if ap, err := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, id); err == nil && ap.State == approval.Pending {
			if _, err := approval.Cancel(ctx, st, tenant, ap.ID, reason, by); err != nil {
				return View{}, err
			}
		}
		if err := st.MovePurchasePlan(ctx, tenant, id, []string{StatePending, StateApproved}, StateCancelled, by, map[string]string{"reason": reason}); err != nil {
			return View{}, err
		}
		return Get(ctx, st, tenant, id)
	case StateExecuting, StateDone:
	default:
		return View{}, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is already %s", id, p.State)
	}
	var started []string
	var acct *Account
	account := func() (Account, error) {
		if acct == nil {
			a, err := open()
			if err != nil {
				return Account{}, err
			}
			acct = &a
		}
		return *acct, nil
	}
	for _, t := range p.Tranches {
		switch t.State {
		case TranchePlanned:
			if err := st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{TranchePlanned}, store.TrancheUpdate{State: TrancheCancelled}, by, map[string]string{"reason": reason}); err != nil {
				return View{}, err
			}
		case TrancheBought, TrancheDone:
			if v.Plan.Kind == KindSale {
				a, err := account()
				if err != nil {
					return View{}, err
				}
				if _, err := a.ec2(v.Plan.Region).CancelReservedInstancesListing(ctx, &ec2.CancelReservedInstancesListingInput{ReservedInstancesListingId: aws.String(t.CommitmentID)}); err != nil {
					return View{}, awsclient.Classify(op, err)
				}
				if err := st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{t.State}, store.TrancheUpdate{State: TrancheCancelled}, by, map[string]string{"reason": reason, "listing_cancelled": t.CommitmentID}); err != nil {
					return View{}, err
				}
				continue
			}
			if isServiceReservation(v.Plan.Type) {
				started = append(started, fmt.Sprintf("%s (a bought %s reservation cannot be cancelled)", t.CommitmentID, v.Plan.Type))
				continue
			}
			a, err := account()
			if err != nil {
				return View{}, err
			}
			state, found, err := a.inventoryState(ctx, v.Plan, t.CommitmentID)
			if err != nil {
				return View{}, err
			}
			// Savings Plans and EC2 reservations bought for a later start
			// are queued until then, and a queued purchase can be deleted.
			if !found || (state != string(sptypes.SavingsPlanStateQueued) && state != string(ec2types.ReservedInstanceStateQueued)) {
				started = append(started, fmt.Sprintf("%s (%s)", t.CommitmentID, firstNonEmpty(state, "not in the inventory yet")))
				continue
			}
			if err := a.deleteQueued(ctx, v.Plan, t.CommitmentID); err != nil {
				return View{}, err
			}
			if err := st.MovePurchaseTranche(ctx, tenant, id, t.Index, []string{t.State}, store.TrancheUpdate{State: TrancheCancelled}, by, map[string]string{"reason": reason, "deleted_queued": t.CommitmentID}); err != nil {
				return View{}, err
			}
		case TrancheBuying:
			started = append(started, fmt.Sprintf("tranche %d (its purchase is in progress: run execute to settle it, then cancel)", t.Index))
		}
	}
	if len(started) == 0 {
		if err := st.MovePurchasePlan(ctx, tenant, id, []string{StateExecuting, StateDone}, StateCancelled, by, map[string]string{"reason": reason}); err != nil {
			return View{}, err
		}
	}
	out, err := Get(ctx, st, tenant, id)
	for _, s := range started {
		out.Notes = append(out.Notes, "not cancelled, already started: "+s)
	}
	return out, err
}

// list puts a sale plan's reservation on the Reserved Instance
// Marketplace with its price schedule; the client token makes a retry
// the same listing.
func (a Account) list(ctx context.Context, plan Plan, t store.PurchaseTranche) (string, error) {
	s := plan.Sale
	in := &ec2.CreateReservedInstancesListingInput{ClientToken: aws.String(t.ClientToken), InstanceCount: aws.Int32(int32(s.Reservation.Count)),
		ReservedInstancesId: aws.String(s.Reservation.ID)}
	for _, p := range s.Schedule {
		in.PriceSchedules = append(in.PriceSchedules, ec2types.PriceScheduleSpecification{Term: aws.Int64(int64(p.Months)), Price: aws.Float64(p.Price), CurrencyCode: ec2types.CurrencyCodeValuesUsd})
	}
	out, err := a.ec2(plan.Region).CreateReservedInstancesListing(ctx, in)
	if err != nil {
		return "", awsclient.Classify("marketplace listing", err)
	}
	for _, l := range out.ReservedInstancesListings {
		if id := aws.ToString(l.ReservedInstancesListingId); id != "" {
			return id, nil
		}
	}
	return "", crossbill.Errorf(crossbill.CodeUnavailable, "marketplace listing", "AWS answered without a listing: run execute again (the same client token returns the same listing)")
}

// deleteQueued deletes a queued Savings Plan or EC2 reservation.
func (a Account) deleteQueued(ctx context.Context, plan Plan, id string) error {
	const op = "purchase cancel"
	if isSavingsPlan(plan.Type) {
		if _, err := a.savingsPlans().DeleteQueuedSavingsPlan(ctx, &savingsplans.DeleteQueuedSavingsPlanInput{SavingsPlanId: aws.String(id)}); err != nil {
			return awsclient.Classify(op, err)
		}
		return nil
	}
	out, err := a.ec2(plan.Region).DeleteQueuedReservedInstances(ctx, &ec2.DeleteQueuedReservedInstancesInput{ReservedInstancesIds: []string{id}})
	if err != nil {
		return awsclient.Classify(op, err)
	}
	for _, f := range out.FailedQueuedPurchaseDeletions {
		if aws.ToString(f.ReservedInstancesId) == id && f.Error != nil {
			return crossbill.Errorf(crossbill.CodeConflict, op, "AWS did not delete the queued reservation %s: %s (%s); check its state in the account and cancel again", id, aws.ToString(f.Error.Message), f.Error.Code)
		}
	}
	return nil
}

// DueReport is what one pass of ExecuteDue did.
type DueReport struct {
	Plans  int      `json:"plans"`            // plans carried on
	Done   int      `json:"done"`             // of them, finished by this pass
	Failed []string `json:"failed,omitempty"` // "plan: error"
}

// ExecuteDue carries on every plan of the tenant that a person started
// executing: it buys the tranches that fell due (RDS, ElastiCache,
// OpenSearch and Redshift reservations cannot be queued at AWS) and marks
// bought tranches done once the inventory shows them, so a laddered plan
// keeps its schedule without anyone running execute again. Only plans in
// state executing are touched: approval and the first execute stay a
// person's. open gives the account of a plan's connection. A plan that
// fails is named and the others go on; the error joins the failures so the
// scheduler retries.
func ExecuteDue(ctx context.Context, st *store.Store, open func(context.Context, crossbill.ConnectionID) (Account, error), tenant crossbill.TenantID, by store.AuditEntry) (DueReport, error) {
	ps, err := st.PurchasePlans(ctx, tenant)
	if err != nil {
		return DueReport{}, err
	}
	var rep DueReport
	var errs []error
	for _, p := range ps {
		if p.State != StateExecuting {
			continue
		}
		rep.Plans++
		acct, err := open(ctx, p.ConnectionID)
		if err == nil {
			var v View
			if v, err = Execute(ctx, st, acct, tenant, p.ID, by); err == nil && v.State == StateDone {
				rep.Done++
			}
		}
		if err != nil {
			rep.Failed = append(rep.Failed, p.ID+": "+err.Error())
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}
