package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// awsPriceServer stands in for the AWS Price List, Savings Plans and Cost
// Explorer recommendation APIs, which moto_server 5.2.1 does not serve
// (STUBBED, over HTTP so that the CLI's own --endpoint-url path is tested).
// It answers real-shaped documents for the commitments fixture's
// db.r6g.xlarge and m5.large, or AccessDenied to everything.
type awsPriceServer struct {
	mu    sync.Mutex
	deny  bool
	calls []string
	// signers are the access keys that signed each Cost Explorer call.
	signers []string
}

// customerKey is the access key of the credentials the stub's STS hands
// out for AssumeRole: only a call made through the connection's role is
// signed with it.
const customerKey = "ASIACUSTOMERROLE0001"

const assumeRoleDoc = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>
<AccessKeyId>` + customerKey + `</AccessKeyId><SecretAccessKey>customer-secret</SecretAccessKey><SessionToken>customer-token</SessionToken>
<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/CrossbillAccess/crossbill</Arn>
<AssumedRoleId>AROACUSTOMER:crossbill</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>`

// signer is the access key in a SigV4 Authorization header.
func signer(r *http.Request) string {
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	key, _, _ := strings.Cut(cred, "/")
	return key
}

const rdsPriceDoc = `{"product":{"productFamily":"Database Instance","attributes":{"instanceType":"db.r6g.xlarge","regionCode":"us-east-1","databaseEngine":"MySQL","deploymentOption":"Single-AZ"},"sku":"9QH3PUGXCYKNCYPB"},"serviceCode":"AmazonRDS","terms":{"OnDemand":{"9QH3PUGXCYKNCYPB.JRTCKXETXF":{"priceDimensions":{"9QH3PUGXCYKNCYPB.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.4800000000"}}},"termAttributes":{}}},"Reserved":{"9QH3PUGXCYKNCYPB.6QCMYABX3D":{"priceDimensions":{"9QH3PUGXCYKNCYPB.6QCMYABX3D.2TG2D8R56U":{"unit":"Quantity","description":"Upfront Fee","pricePerUnit":{"USD":"2102.4"}},"9QH3PUGXCYKNCYPB.6QCMYABX3D.6YS6EN2CT7":{"unit":"Hrs","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.0000000000"}}},"termAttributes":{"LeaseContractLength":"1yr","OfferingClass":"standard","PurchaseOption":"All Upfront"}}}},"version":"20251101000000"}`

const ec2PriceDoc = `{"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"m5.large","regionCode":"us-east-1","operatingSystem":"Linux","tenancy":"Shared"},"sku":"2WM8BNQ8JMXNCYN6"},"serviceCode":"AmazonEC2","terms":{"OnDemand":{"2WM8BNQ8JMXNCYN6.JRTCKXETXF":{"priceDimensions":{"2WM8BNQ8JMXNCYN6.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.0960000000"}}},"termAttributes":{}}}},"version":"20251101000000"}`

func (s *awsPriceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if op == "" {
		op = strings.TrimPrefix(r.URL.Path, "/")
	}
	if strings.Contains(string(body), "Action=AssumeRole") {
		op = "AssumeRole"
	}
	s.mu.Lock()
	s.calls = append(s.calls, op)
	if strings.HasPrefix(op, "AWSInsightsIndexService.") {
		s.signers = append(s.signers, signer(r))
	}
	deny := s.deny
	s.mu.Unlock()
	if deny {
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		action := map[string]string{"AWSPriceListService.GetProducts": "pricing:GetProducts"}[op]
		fmt.Fprintf(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/hub is not authorized to perform: %s"}`, action)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "AssumeRole":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, assumeRoleDoc)
	case "AWSPriceListService.GetProducts":
		var in struct{ ServiceCode string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		list := []string{}
		switch {
		case in.ServiceCode == "AmazonRDS" && strings.Contains(string(body), "db.r6g.xlarge"):
			list = append(list, rdsPriceDoc)
		case in.ServiceCode == "AmazonEC2" && strings.Contains(string(body), "m5.large"):
			list = append(list, ec2PriceDoc)
		}
		b, err := json.Marshal(map[string]any{"FormatVersion": "aws_v1", "PriceList": list})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b) //nolint:errcheck // test server
	case "DescribeSavingsPlansOfferingRates":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"searchResults":[{"savingsPlanOffering":{"offeringId":"o-1","paymentOption":"All Upfront","planType":"EC2Instance","durationSeconds":31536000,"currency":"USD"},"rate":"0.048","unit":"Hrs","productType":"EC2","serviceCode":"AmazonEC2","usageType":"BoxUsage:m5.large","operation":"RunInstances","properties":[]}]}`)
	case "AWSInsightsIndexService.GetReservationPurchaseRecommendation":
		fmt.Fprint(w, `{"Recommendations":[{"RecommendationDetails":[{"AccountId":"222222222222","InstanceDetails":{"RDSInstanceDetails":{"InstanceType":"db.r6g.xlarge","Region":"us-east-1","Family":"r6g"}},"RecommendedNumberOfInstancesToPurchase":"2","EstimatedMonthlySavingsAmount":"150","EstimatedMonthlyOnDemandCost":"700","UpfrontCost":"4204.8","AverageUtilization":"95","EstimatedBreakEvenInMonths":"6"}]}]}`)
	case "AWSInsightsIndexService.GetSavingsPlansPurchaseRecommendation":
		fmt.Fprint(w, `{"SavingsPlansPurchaseRecommendation":{"SavingsPlansPurchaseRecommendationSummary":{"HourlyCommitmentToPurchase":"0.4","EstimatedMonthlySavingsAmount":"80","EstimatedSavingsPercentage":"25"}}}`)
	case "AWSInsightsIndexService.GetSavingsPlansUtilization":
		fmt.Fprint(w, `{"Total":{"Utilization":{"TotalCommitment":"100","UsedCommitment":"80","UnusedCommitment":"20","UtilizationPercentage":"80"}},"SavingsPlansUtilizationsByTime":[]}`)
	case "AWSInsightsIndexService.GetReservationUtilization":
		fmt.Fprint(w, `{"Total":{"UtilizationPercentage":"50"},"UtilizationsByTime":[]}`)
	case "AWSInsightsIndexService.GetSavingsPlansCoverage":
		// Two pages: 30 of 100, then 10 of 100.
		if strings.Contains(string(body), `"NextToken"`) {
			fmt.Fprint(w, `{"SavingsPlansCoverages":[{"Coverage":{"SpendCoveredBySavingsPlans":"10","OnDemandCost":"90"}}]}`)
		} else {
			fmt.Fprint(w, `{"SavingsPlansCoverages":[{"Coverage":{"SpendCoveredBySavingsPlans":"30","OnDemandCost":"70"}}],"NextToken":"n2"}`)
		}
	case "AWSInsightsIndexService.GetSavingsPlansUtilizationDetails":
		// The fixture's plan, and one the CUR does not hold yet.
		fmt.Fprint(w, `{"SavingsPlansUtilizationDetails":[{"SavingsPlanArn":"`+commitmentstest.SPARN+`","Attributes":{"AccountId":"111111111111"},"Utilization":{"TotalCommitment":"90","UsedCommitment":"81","UnusedCommitment":"9","UtilizationPercentage":"90"}},`+
			`{"SavingsPlanArn":"arn:aws:savingsplans::111111111111:savingsplan/sp-new","Attributes":{"AccountId":"111111111111"},"Utilization":{"TotalCommitment":"10","UsedCommitment":"0","UnusedCommitment":"10","UtilizationPercentage":"0"}}]}`)
	case "AWSInsightsIndexService.GetReservationCoverage":
		fmt.Fprint(w, `{"Total":{"CoverageHours":{"CoverageHoursPercentage":"25"}},"CoveragesByTime":[]}`)
	default:
		http.Error(w, "not stubbed: "+op, http.StatusNotFound)
	}
}

// TestCommitmentsPricing runs recommend --pricing --aws-compare against the
// stub endpoint: Pricing rates sit between the defaults and the CUR's
// observed rates, Cost Explorer's reservation recommendation is shown, and
// a denied Pricing API is a warning, not a failure. Not parallel: it sets
// the hub's credentials in the environment.
func TestCommitmentsPricing(t *testing.T) {
	dir := commitmentsData(t)
	env := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(env, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(env, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAHUBEXAMPLE000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hub-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	srv := &awsPriceServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	args := func(more ...string) []string {
		return append([]string{"commitments", "recommend", "--tenant", "acme", "--lookback", "7d", "--term", "1", "--type", "RDS_RI,EC2_INSTANCE_SP,COMPUTE_SP",
			"--pricing", "--endpoint-url", ts.URL}, more...)
	}

	// Cost Explorer answers for the account that calls it: --aws-compare
	// needs a connection, and goes through its role.
	if _, errOut, code := runCLI(t, dir, args("--aws-compare")...); code != 2 || !strings.Contains(errOut, "--connection") {
		t.Errorf("--aws-compare without --connection: code %d, stderr %s", code, errOut)
	}
	conn := costConnection(t, dir, "acme", "arn:aws:iam::222222222222:role/CrossbillAccess")
	out, errOut, code := runCLI(t, dir, args("--aws-compare", "--connection", string(conn.ID), "--json")...)
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	srv.mu.Lock()
	signers := slices.Clone(srv.signers)
	srv.mu.Unlock()
	if len(signers) != 9 || slices.ContainsFunc(signers, func(k string) bool { return k != customerKey }) {
		t.Errorf("Cost Explorer calls signed by %v, want 9 by the assumed role's %s (never the hub's AKIAHUBEXAMPLE000001)", signers, customerKey)
	}
	if n := costExplorerRequests(t, dir, conn); n["ce:GetReservationPurchaseRecommendation"] != 3 || n["ce:GetSavingsPlansPurchaseRecommendation"] != 6 {
		t.Errorf("requests counted against the connection's budget: %v", n)
	}
	var rep recommendReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	rate := func(rep recommendReport, typ string, pay commitments.Payment) commitments.Rate {
		class := commitments.ClassEC2
		if typ == commitments.OptionRDSRI {
			class = commitments.ClassRDS
		}
		for _, r := range rep.Rates {
			if r.Type == typ && r.Class == class && r.Term == 1 && r.Payment == pay {
				return r
			}
		}
		return commitments.Rate{}
	}
	tests := []struct {
		typ      string
		pay      commitments.Payment
		source   string
		discount float64
	}{
		{commitments.OptionRDSRI, commitments.AllUpfront, "pricing", 0.5},         // 2102.40 / 8760 = $0.24 of $0.48
		{commitments.OptionEC2InstanceSP, commitments.AllUpfront, "pricing", 0.5}, // $0.048 of $0.096
		{commitments.OptionRDSRI, commitments.NoUpfront, "cur", 0.375},            // observed: $0.30 of $0.48
		{commitments.OptionComputeSP, commitments.NoUpfront, "cur", 0.28},         // the fixture's plan
		{commitments.OptionEC2InstanceSP, commitments.NoUpfront, "default", 0.36}, // no price answered
	}
	for _, tt := range tests {
		r := rate(rep, tt.typ, tt.pay)
		if r.Source != tt.source || math.Abs(r.Discount-tt.discount) > 1e-9 {
			t.Errorf("%s 1y %s: %+v, want %s %v", tt.typ, tt.pay, r, tt.source, tt.discount)
		}
	}
	var rdsAWS *commitments.AWSRecommendation
	for i, a := range rep.AWS {
		if a.Type == commitments.OptionRDSRI && a.Payment == commitments.AllUpfront {
			rdsAWS = &rep.AWS[i]
		}
	}
	// 3 types × 3 payments for 1 year.
	if len(rep.AWS) != 9 || rdsAWS == nil || len(rdsAWS.Details) != 1 || rdsAWS.Details[0].Count != 2 || rdsAWS.MonthlySavings != 150 || rdsAWS.Upfront != 4204.8 {
		t.Fatalf("Cost Explorer side: %+v", rep.AWS)
	}
	if !strings.Contains(errOut, "pricing AmazonRDS db.r6g.xlarge in us-east-1") || strings.Contains(errOut, "warning") {
		t.Errorf("stderr: %s", errOut)
	}

	// The API asks the same through the same role: the same answer.
	func() {
		api := commitmentsAPI(t, dir, ts.URL)
		status, body := api.do(t, "POST", "/api/v1/tenants/acme/connections/"+string(conn.ID)+"/commitments/aws-recommendations?types=RDS_RI,EC2_INSTANCE_SP,COMPUTE_SP&terms=1&lookback_days=7", nil)
		var apiRecs []commitments.AWSRecommendation
		if status != http.StatusOK || json.Unmarshal(body, &apiRecs) != nil {
			t.Fatalf("API aws-recommendations: %d %s", status, body)
		}
		a, _ := json.Marshal(apiRecs)
		c, _ := json.Marshal(rep.AWS)
		if string(a) != string(c) {
			t.Errorf("CLI and API differ\nCLI %s\nAPI %s", c, a)
		}
	}()
	if n := costExplorerRequests(t, dir, conn); n["ce:GetReservationPurchaseRecommendation"] != 6 || n["ce:GetSavingsPlansPurchaseRecommendation"] != 12 {
		t.Errorf("requests counted after the API's: %v", n)
	}

	// Text output shows the sources and Cost Explorer's reservations.
	text, errOut, code := runCLI(t, dir, args("--aws-compare", "--connection", string(conn.ID))...)
	if code != 0 || !strings.Contains(text, "discount rates by source:") || !strings.Contains(text, "pricing 2") ||
		!strings.Contains(text, "(Cost Explorer, payer)") || !strings.Contains(text, "6.0 months") {
		t.Errorf("text (code %d, stderr %s):\n%s", code, errOut, text)
	}

	// Denied: a warning naming the permission, and the recommendation
	// still runs on the other sources.
	srv.mu.Lock()
	srv.deny, srv.calls = true, nil
	srv.mu.Unlock()
	out, errOut, code = runCLI(t, dir, args("--json")...)
	if code != 0 {
		t.Fatalf("denied Pricing API: code %d, stderr %s", code, errOut)
	}
	if !strings.Contains(errOut, "warning:") || !strings.Contains(errOut, `allow "pricing:GetProducts"`) {
		t.Errorf("no warning on stderr: %s", errOut)
	}
	rep = recommendReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Recommendations) == 0 {
		t.Fatalf("denied: %v, %+v", err, rep)
	}
	for _, r := range rep.Rates {
		if r.Source == "pricing" {
			t.Errorf("pricing rate after a denial: %+v", r)
		}
	}
	if len(srv.calls) != 1 {
		t.Errorf("calls after the denial: %v", srv.calls)
	}
}

// TestCommitmentsCompareThroughRole: `commitments compare` puts Cost
// Explorer's utilization and coverage (STUBBED over HTTP: moto 5.2.1 does
// not serve them) beside crossbill's, asked through the connection's role
// (every call signed with the assumed role's key), following pages, and
// counts each request against the connection's budget. Not parallel: it
// sets the hub's credentials in the environment.
func TestCommitmentsCompareThroughRole(t *testing.T) {
	dir := commitmentsData(t)
	setHubEnv(t, "AKIAHUBEXAMPLE000001", "hub-secret")
	srv := &awsPriceServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	args := []string{"commitments", "compare", "--tenant", "acme", "--lookback", "14d", "--endpoint-url", ts.URL}
	if _, errOut, code := runCLI(t, dir, args...); code != 2 || !strings.Contains(errOut, "--connection") {
		t.Errorf("compare without --connection: code %d, %s", code, errOut)
	}
	conn := costConnection(t, dir, "acme", "arn:aws:iam::222222222222:role/CrossbillAccess")
	out, errOut, code := runCLI(t, dir, append(args, "--connection", string(conn.ID), "--json")...)
	if code != 0 {
		t.Fatalf("compare: code %d, %s", code, errOut)
	}
	var rep commitments.FiguresReport
	mustNoErr(t, json.Unmarshal([]byte(out), &rep))
	want := map[string]float64{"savings plans utilization": 0.8, "reservation utilization": 0.5, "savings plans coverage": 0.2, "reservation coverage": 0.25}
	if len(rep.Figures) != 4 {
		t.Fatalf("figures: %+v", rep.Figures)
	}
	for _, f := range rep.Figures {
		if f.AWS == nil || math.Abs(*f.AWS-want[f.Name]) > 1e-9 || f.Why == "" {
			t.Errorf("%s: Cost Explorer %v, want %v, why %q", f.Name, f.AWS, want[f.Name], f.Why)
		}
	}
	if f := rep.Figures[0]; f.Crossbill == nil || *f.Crossbill <= 0 || *f.Crossbill > 1 {
		t.Errorf("crossbill's Savings Plans utilization beside it: %v", f.Crossbill)
	}
	srv.mu.Lock()
	signers := slices.Clone(srv.signers)
	srv.mu.Unlock()
	if len(signers) != 6 || slices.ContainsFunc(signers, func(k string) bool { return k != customerKey }) {
		t.Errorf("Cost Explorer calls signed by %v, want 6 by the assumed role's %s", signers, customerKey)
	}
	if n := costExplorerRequests(t, dir, conn); n["ce:GetSavingsPlansCoverage"] != 2 || n["ce:GetReservationCoverage"] != 1 || n["ce:GetSavingsPlansUtilizationDetails"] != 1 {
		t.Errorf("requests counted: %v", n)
	}
	// Per plan: the fixture's plan has both sides, the new one Cost
	// Explorer's only.
	if len(rep.Plans) != 2 || rep.Plans[0].ARN != commitmentstest.SPARN || rep.Plans[0].Crossbill == nil || rep.Plans[0].AWS == nil ||
		*rep.Plans[0].AWS != 0.9 || rep.Plans[1].Crossbill != nil || rep.Plans[1].AWS == nil || *rep.Plans[1].AWS != 0 || rep.Plans[1].AWSUnused != 10 {
		t.Errorf("per plan: %+v", rep.Plans)
	}
	// The API runs the same use case over the same data: the same answer,
	// through the role, counted against the same budget.
	func() {
		api := commitmentsAPI(t, dir, ts.URL)
		status, body := api.do(t, "POST", "/api/v1/tenants/acme/connections/"+string(conn.ID)+"/commitments/compare?lookback_days=14", nil)
		var apiRep commitments.FiguresReport
		if status != http.StatusOK || json.Unmarshal(body, &apiRep) != nil {
			t.Fatalf("API compare: %d %s", status, body)
		}
		a, _ := json.Marshal(apiRep)
		c, _ := json.Marshal(rep)
		if string(a) != string(c) {
			t.Errorf("CLI and API differ\nCLI %s\nAPI %s", c, a)
		}
	}()
	if n := costExplorerRequests(t, dir, conn); n["ce:GetSavingsPlansUtilizationDetails"] != 2 {
		t.Errorf("requests counted after the API's compare: %v", n)
	}
	text, _, _ := runCLI(t, dir, append(args, "--connection", string(conn.ID))...)
	if !strings.Contains(text, "80.0%") || !strings.Contains(text, "why reservation utilization may differ: Cost Explorer counts reserved hours") ||
		!strings.Contains(text, "savingsplan/sp-new") || !strings.Contains(text, "90.0%") {
		t.Errorf("text:\n%s", text)
	}
}

// commitmentsAPI is the API over dir's stores, its AWS calls sent to
// endpoint with the hub's credentials of the environment. The stores close
// at the test's end.
func commitmentsAPI(t *testing.T, dir, endpoint string) *apiClient {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { st.Close() })
	cs, err := costs.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { cs.Close() })
	hub, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: endpoint})
	mustNoErr(t, err)
	_, tok, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
	mustNoErr(t, err)
	return &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(hub), RatePerSecond: -1}), token: tok}
}
