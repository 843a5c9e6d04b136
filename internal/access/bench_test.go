package access_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
)

// largeSnapshot is the benchmark's organization: one large account with
// 5,000 roles, 1,000 users (in 50 groups) and 5,000 customer managed
// policies, 99 more accounts, an SCP on every member, and Identity Center
// with 1,000 users in 200 groups and 200 permission sets, each assigned to
// a group in all 100 accounts (20,000 assignments).
func largeSnapshot() *access.Snapshot {
	const big = "100000000000"
	services := []string{"s3", "ec2", "dynamodb", "lambda", "sqs", "sns", "kms", "logs", "rds", "iam"}
	verbs := []string{"Get*", "List*", "Describe*", "Put*", "Delete*"}
	doc := func(i int) string {
		s1, s2 := services[i%len(services)], services[(i/7)%len(services)]
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["%s:%s","%s:%s"],"Resource":"*"},`+
			`{"Effect":"Allow","Action":"%s:*","Resource":"arn:aws:%s:::res-%d/*"},{"Effect":"Deny","Action":"%s:Delete*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`,
			s1, verbs[i%5], s2, verbs[(i/5)%5], s2, s2, i, s1)
	}
	a := access.Account{ID: big, Ancestors: []string{"r-root"}}
	for i := range 5000 {
		a.Policies = append(a.Policies, access.ManagedPolicy{ARN: fmt.Sprintf("arn:aws:iam::%s:policy/p%d", big, i), Name: fmt.Sprintf("p%d", i), Path: "/", Document: doc(i), Attached: 1})
	}
	pol := func(i int) string { return a.Policies[i%5000].ARN }
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for g := range 50 {
		a.Groups = append(a.Groups, access.Group{ARN: fmt.Sprintf("arn:aws:iam::%s:group/g%d", big, g), Name: fmt.Sprintf("g%d", g), Attached: []string{pol(g * 3), pol(g*3 + 1)}})
	}
	a.Groups[0].Inline = []access.InlinePolicy{{Name: "admin", Document: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}
	for u := range 1000 {
		a.Users = append(a.Users, access.User{ARN: fmt.Sprintf("arn:aws:iam::%s:user/u%d", big, u), Name: fmt.Sprintf("u%d", u), CreateDate: created,
			Groups: []string{fmt.Sprintf("g%d", u%50)}, Attached: []string{pol(u)}, LoginProfile: u%3 == 0,
			AccessKeys: []access.AccessKey{{ID: fmt.Sprintf("AKIA%016d", u), Status: "Active", CreateDate: created}}})
	}
	for r := range 5000 {
		a.Roles = append(a.Roles, access.Role{ARN: fmt.Sprintf("arn:aws:iam::%s:role/r%d", big, r), Name: fmt.Sprintf("r%d", r), Path: "/", CreateDate: created,
			Trust:    fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%012d:root"},"Action":"sts:AssumeRole"}]}`, 200000000000+r%300),
			Attached: []string{pol(r), pol(r + 1)},
			Inline:   []access.InlinePolicy{{Name: "own", Document: doc(r + 17)}}})
	}
	s := &access.Snapshot{ConnectionID: "conn", ManagementAccount: "999999999999", TakenAt: time.Now(), Accounts: []access.Account{a}}
	ids := []crossbill.AccountID{big}
	for i := 1; i < 100; i++ {
		id := crossbill.AccountID(fmt.Sprintf("1%011d", i))
		ids = append(ids, id)
		s.Accounts = append(s.Accounts, access.Account{ID: id, Ancestors: []string{"r-root"},
			Roles: []access.Role{{ARN: "arn:aws:iam::" + string(id) + ":role/ci", Name: "ci", CreateDate: created, Trust: `{"Statement":[]}`, Inline: []access.InlinePolicy{{Name: "ci", Document: doc(i)}}}}})
	}
	s.OrgPolicies = []access.OrgPolicy{{ID: "p-full", Name: "FullAWSAccess", Type: access.TypeSCP, Targets: []string{"r-root"},
		Document: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		{ID: "p-deny", Name: "deny-leave", Type: access.TypeSCP, Targets: []string{"r-root"},
			Document: `{"Statement":[{"Effect":"Deny","Action":["organizations:LeaveOrganization","iam:CreateUser"],"Resource":"*"}]}`}}
	ic := &access.IdentityCenter{InstanceARN: "arn:aws:sso:::instance/ssoins-1", IdentityStoreID: "d-1"}
	for u := range 1000 {
		ic.Users = append(ic.Users, access.ICUser{ID: fmt.Sprintf("u-%d", u), UserName: fmt.Sprintf("user%d", u)})
		ic.Memberships = append(ic.Memberships, access.ICMembership{GroupID: fmt.Sprintf("g-%d", u%200), UserID: fmt.Sprintf("u-%d", u)})
	}
	for g := range 200 {
		ic.Groups = append(ic.Groups, access.ICGroup{ID: fmt.Sprintf("g-%d", g), Name: fmt.Sprintf("group%d", g)})
		ps := access.PermissionSet{ARN: fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-1/ps-%d", g), Name: fmt.Sprintf("ps%d", g), Inline: doc(g + 3)}
		if g == 0 {
			ps.Managed = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
		}
		ic.PermissionSets = append(ic.PermissionSets, ps)
		for _, id := range ids {
			ic.Assignments = append(ic.Assignments, access.Assignment{Account: id, PermissionSetARN: ps.ARN, PrincipalType: "GROUP", PrincipalID: fmt.Sprintf("g-%d", g)})
		}
	}
	s.IdentityCenter = ic
	return s
}

// cpuTime is the process's CPU time: on a shared machine it says more
// than the wall clock, which waits for other processes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is the process's peak resident memory in MiB.
func maxRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// BenchmarkAnalysis is the full analysis of the large organization: model
// and findings. Targets: under 10 s, under 1 GB (heap-MB is the heap in use
// after the analysis, before any collection: an upper bound of its peak).
func BenchmarkAnalysis(b *testing.B) {
	snap := largeSnapshot()
	for b.Loop() {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cpu := cpuTime()
		m := access.Build(snap)
		fs, err := m.Findings(access.Thresholds{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil || len(fs) == 0 {
			b.Fatal(err, len(fs))
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MB")
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(len(fs)), "findings")
		b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
		b.ReportMetric(maxRSS(), "maxrss-MB")
	}
}

// BenchmarkWhoCan is one who-can question over the large organization
// (about 106,000 principal × account paths). Target: under 200 ms.
func BenchmarkWhoCan(b *testing.B) {
	m := access.Build(largeSnapshot())
	if _, err := m.WhoCan("s3:GetObject", ""); err != nil { // parses every document once
		b.Fatal(err)
	}
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		n++
		as, err := m.WhoCan("iam:PassRole", "")
		if err != nil || len(as) == 0 {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(as)), "answers")
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(n), "cpu-ms/op")
}
