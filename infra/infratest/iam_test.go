package infratest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/lambda/boot"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// Resources as the template names them (see load for the notation).
const (
	tableArn = "${" + tableID + ".Arn}"
	kmsKeys  = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
	kmsKey   = "${SecretsKmsKeyArn}"
	sender   = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${NotificationSenderIdentity}"
)

func indexArn() string { return tableArn + "/index/" + dynamo.IndexSweep }

// poolIndexArn is the spend's pool index (SpendLots).
func poolIndexArn() string { return tableArn + "/index/" + dynamo.IndexPool }

func param(name string) string {
	return "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${" + name + "}"
}

// What each function's code needs, derived by reading it:
//
// functions/api's handlers call functions/credits.Service, which calls the
// store (ledger.Store); on DynamoDB each store method is one kind of call
// (functions/credits/dynamo, read.go and apply.go):
//   - every reading method (Contract, User, Lot, Hold, Idempotency, Budget…)
//     is a GetItem, every list (Lots, Orders, Users, Entries, Usage, the
//     LOTID#/ORDERID# directories) a Query on the table;
//   - a spend's lots (SpendLots: a consumption, a hold, a settlement, a
//     user's balance) are a Query on the pool index;
//   - every write is Apply: one TransactWriteItems, whose items IAM
//     authorises as PutItem, UpdateItem and ConditionCheckItem (there is no
//     dynamodb:TransactWriteItems action);
//   - the sweep's EndedLots, ExpiredHolds, LotsEndingWithin (expiry
//     warnings) and PendingNotifications (the outbox) Query the index, read
//     the items by BatchGetItem, and EndedLots drops finished lots from the
//     index by UpdateItem; MarkSent is an Apply.
//
// So: reads (balances: Lots) reads and never writes; spending, admin and
// purchases read and Apply; the sweeper reads, Applies and sweeps. The HTTP
// functions read the token public keys (boot.FromEnv); purchases alone
// reads the Stripe and quote-signing secrets; the sweeper alone sends mail
// (the notification outbox) and reads no key at all.
var (
	ledgerRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	ledgerApply = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
)

// grant is one allowed action on one resource.
type grant struct{ action, resource string }

func (g grant) String() string { return g.action + " on " + g.resource }

func grants(actions []string, resources ...string) []grant {
	var out []grant
	for _, a := range actions {
		for _, r := range resources {
			out = append(out, grant{a, r})
		}
	}
	return out
}

// wantGrants is every Allow each function's role may have: exactly these.
func wantGrants() map[string][]grant {
	tokenKeys := slices.Concat(
		grants([]string{"ssm:GetParameter"}, param("TokenPublicKeysParam")),
		grants([]string{"kms:Decrypt"}, kmsKey, kmsKeys))
	// An HTTP function's ledger actions are the ones its code declares
	// (boot.Function.TableActions and IndexQueries), which a boot test
	// checks against the calls it makes.
	ledger := func(f boot.Function) []grant {
		g := grants(f.TableActions(), tableArn)
		for _, index := range f.IndexQueries() {
			g = append(g, grants([]string{"dynamodb:Query"}, tableArn+"/index/"+index)...)
		}
		return slices.Concat(g, tokenKeys)
	}
	return map[string][]grant{
		"reads":    ledger(boot.Reads),
		"spending": ledger(boot.Spending),
		// A currency sunset (PUT /v1/currencies/{cur}/sunset) finds the lots
		// it must end through the sweep index.
		"admin": ledger(boot.Admin),
		"purchases": slices.Concat(ledger(boot.Purchases), grants([]string{"ssm:GetParameter"},
			param("StripeSecretKeyParam"), param("StripeWebhookSecretParam"), param("QuoteSigningKeyParam"))),
		// The usage roll-up adds each stream batch to the roll-up rows
		// (transactions of ADDs with the batch's marker), writes the
		// entries of the spends in it and moves its status on; it reads
		// nothing.
		"rollup": grants([]string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}, tableArn),
		"sweeper": slices.Concat(
			grants(slices.Concat(ledgerRead, ledgerApply), tableArn),
			grants([]string{"dynamodb:Query"}, indexArn()),
			grants([]string{"ses:SendEmail"}, sender)),
	}
}

// statement is one IAM policy statement, read from the template.
type statement struct {
	sid, effect         string
	actions, resources  []string
	condition           map[string]any
	notAction, notResrc bool
}

func strings1(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strings1(e)...)
		}
		return out
	}
	return nil
}

// statements reads a function's inline policy statements. Managed policies
// and SAM policy templates are refused: this test could not see into them.
func statements(t *testing.T, name string, f *serverless.Function) []statement {
	t.Helper()
	if f.Role != nil {
		t.Fatalf("%s: Role is set; let SAM make the function's own role from its Policies", name)
	}
	// goformation tries a list of policies as every list type it knows, so
	// read it as documents and refuse what a document can't be: a managed
	// policy's name (a string) or a SAM policy template (no Statement).
	p := f.Policies
	if p == nil || p.String != nil || p.IAMPolicyDocument != nil || p.IAMPolicyDocumentArray == nil {
		t.Fatalf("%s: Policies must be a list of inline policy documents", name)
	}
	if p.StringArray != nil && slices.ContainsFunc(*p.StringArray, func(s string) bool { return s != "" }) {
		t.Fatalf("%s: Policies names managed policies %v: use inline statements", name, *p.StringArray)
	}
	var out []statement
	for _, doc := range *p.IAMPolicyDocumentArray {
		if len(doc.Statement) == 0 {
			t.Fatalf("%s: a policy without statements (a SAM policy template?): use inline statements", name)
		}
		for _, raw := range doc.Statement {
			m, ok := raw.(map[string]any)
			if !ok {
				t.Fatalf("%s: unreadable statement %v", name, raw)
			}
			s := statement{effect: fmt.Sprint(m["Effect"]), actions: strings1(m["Action"]), resources: strings1(m["Resource"])}
			s.sid, _ = m["Sid"].(string)
			s.condition, _ = m["Condition"].(map[string]any)
			_, s.notAction = m["NotAction"]
			_, s.notResrc = m["NotResource"]
			out = append(out, s)
		}
	}
	return out
}

// TestLeastPrivilege: each role allows exactly what its function's code
// needs (wantGrants), and the rules below hold whatever the sets say.
func TestLeastPrivilege(t *testing.T) {
	tpl := load(t)
	want := wantGrants()
	fns := functions(t, tpl)
	if got := slices.Sorted(maps.Keys(fns)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("functions %v; the allowed sets know %v", got, slices.Sorted(maps.Keys(want)))
	}
	for name, f := range fns {
		t.Run(name, func(t *testing.T) {
			var got []grant
			for _, s := range statements(t, name, f) {
				if s.notAction || s.notResrc {
					t.Errorf("statement %s: NotAction/NotResource allow too much to check", s.sid)
				}
				for _, a := range s.actions {
					if strings.Contains(a, "*") {
						t.Errorf("statement %s: wildcard action %s", s.sid, a)
					}
				}
				if s.effect != "Allow" {
					continue
				}
				for _, r := range s.resources {
					if r == "*" {
						t.Errorf("statement %s: Resource \"*\"", s.sid)
					}
				}
				if slices.Contains(s.actions, "kms:Decrypt") {
					checkDecryptCondition(t, s)
				}
				got = append(got, grants(s.actions, s.resources...)...)
			}
			extra, missing := diff(got, want[name])
			for _, g := range extra {
				t.Errorf("allows %s, which its code does not need", g)
			}
			for _, g := range missing {
				t.Errorf("does not allow %s, which its code needs", g)
			}
		})
	}
}

// checkDecryptCondition: kms:Decrypt only through SSM and only for the
// function's own parameters.
func checkDecryptCondition(t *testing.T, s statement) {
	t.Helper()
	eq, _ := s.condition["StringEquals"].(map[string]any)
	if via := strings1(eq["kms:ViaService"]); !slices.Equal(via, []string{"ssm.${AWS::Region}.amazonaws.com"}) {
		t.Errorf("statement %s: kms:Decrypt without kms:ViaService = ssm", s.sid)
	}
	if len(strings1(eq["kms:EncryptionContext:PARAMETER_ARN"])) == 0 {
		t.Errorf("statement %s: kms:Decrypt not limited to the function's parameters (kms:EncryptionContext:PARAMETER_ARN)", s.sid)
	}
}

func diff(got, want []grant) (extra, missing []grant) {
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	return extra, missing
}

// TestRulesHoldForAnySets: the rules the brief sets, checked on the
// allowed sets themselves, so relaxing wantGrants cannot relax them.
func TestRulesHoldForAnySets(t *testing.T) {
	writes := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
		"dynamodb:ConditionCheckItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
	for name, gs := range wantGrants() {
		for _, g := range gs {
			switch {
			case name == "reads" && slices.Contains(writes, g.action):
				t.Errorf("reads may not write: %s", g)
			case slices.Contains([]string{"dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:DeleteTable"}, g.action):
				t.Errorf("%s: %s (Scan is for tests; nothing deletes)", name, g)
			case strings.HasPrefix(g.action, "dynamodb:") && !strings.HasPrefix(g.resource, tableArn):
				t.Errorf("%s: %s is not on the ledger table", name, g)
			case name != "purchases" && g.action == "ssm:GetParameter" && g.resource != param("TokenPublicKeysParam"):
				t.Errorf("%s: %s; only purchases reads the Stripe and quote-signing secrets", name, g)
			case name != "sweeper" && strings.HasPrefix(g.action, "ses:"):
				t.Errorf("%s: %s; only the sweeper sends mail", name, g)
			case name == "sweeper" && strings.HasPrefix(g.action, "ssm:"):
				t.Errorf("sweeper: %s; it reads no keys", g)
			}
		}
	}
}

// TestSpendingKeptFromOrderDirectory: spending is denied the order
// directory partitions (orders themselves share the contract's partition,
// which no condition key tells apart).
func TestSpendingKeptFromOrderDirectory(t *testing.T) {
	tpl := load(t)
	for _, s := range statements(t, "spending", functions(t, tpl)["spending"]) {
		if s.effect != "Deny" {
			continue
		}
		like, _ := s.condition["ForAnyValue:StringLike"].(map[string]any)
		if slices.Equal(strings1(like["dynamodb:LeadingKeys"]), []string{"ORDERID#*"}) &&
			slices.Equal(s.resources, []string{tableArn}) && len(s.actions) > 0 {
			for _, a := range slices.Concat(ledgerRead, ledgerApply) {
				if !slices.Contains(s.actions, a) {
					t.Errorf("the order-directory denial leaves out %s", a)
				}
			}
			return
		}
	}
	t.Errorf("spending: no Deny on dynamodb:LeadingKeys ORDERID#*")
}

// TestAdapterCallsAreGranted ties the allowed sets to the adapter's source:
// the IAM actions functions/credits/dynamo can cause (its calls on the client,
// and the kinds of item in its transactions) must cover every DynamoDB
// grant, and every action it causes outside tests and table setup must be
// granted to some function. A new call in the adapter fails here until
// someone decides which functions need it.
func TestAdapterCallsAreGranted(t *testing.T) {
	calls := adapterActions(t)
	granted := map[string]bool{}
	for _, gs := range wantGrants() {
		for _, g := range gs {
			if strings.HasPrefix(g.action, "dynamodb:") {
				granted[g.action] = true
			}
		}
	}
	for a := range granted {
		if _, ok := calls[a]; !ok {
			t.Errorf("%s is granted, but functions/credits/dynamo never causes it", a)
		}
	}
	// Table setup (CreateTable and its waitActive) and Dump are for tests and
	// local runs: boot never creates the table (infra/ does).
	// BackfillDirectory and BackfillPools (with the scan they share,
	// scanUpdate) are an operator's one-off upgrade steps
	// (scripts/directory-backfill), run with the operator's credentials.
	// NewStreamReader is the tests' and the local server's stand-in for the
	// stream's event source (the roll-up function is invoked with batches).
	setup := map[string]bool{"CreateTable": true, "waitActive": true, "Dump": true, "NewStreamReader": true,
		"BackfillDirectory": true, "BackfillPools": true, "scanUpdate": true}
	for a, funcs := range calls {
		runtime := slices.DeleteFunc(slices.Clone(funcs), func(f string) bool { return setup[f] })
		if len(runtime) > 0 && !granted[a] {
			t.Errorf("functions/credits/dynamo causes %s (in %v) but no function may", a, runtime)
		}
	}
	scans := slices.Sorted(slices.Values(calls["dynamodb:Scan"]))
	if !slices.Equal(scans, []string{"Dump", "scanUpdate"}) {
		t.Errorf("dynamodb:Scan is called from %v; only Dump (tests) and scanUpdate (the operator's backfills) may scan", scans)
	}
	// The setup exemption holds only while no function creates the table
	// (functions/lambda/internal holds test helpers, which may).
	err := filepath.WalkDir(lambdaDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "internal" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(src), "CreateTable(") {
			t.Errorf("%s calls CreateTable; the functions' roles may not create tables (infra/ does)", path)
		}
		if err == nil && strings.Contains(string(src), "BackfillDirectory(") {
			t.Errorf("%s calls BackfillDirectory; it scans the table, which the functions' roles may not", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// adapterActions returns, per IAM action, the functions of the dynamo
// package (tests excluded) that cause it: calls on the client (x.db.M or
// client.M) and the members of types.TransactWriteItem literals.
func adapterActions(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dynamoDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	txItem := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "ConditionCheck": "ConditionCheckItem", "Delete": "DeleteItem"}
	out := map[string][]string{}
	add := func(action, fn string) {
		if !slices.Contains(out[action], fn) {
			out[action] = append(out[action], fn)
		}
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CallExpr:
					sel, ok := x.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					switch recv := sel.X.(type) {
					case *ast.SelectorExpr: // s.db.M(…)
						if recv.Sel.Name == "db" && sel.Sel.Name != "TransactWriteItems" {
							add("dynamodb:"+sel.Sel.Name, fd.Name.Name)
						}
					case *ast.Ident: // client.M(…)
						if recv.Name == "client" {
							add("dynamodb:"+sel.Sel.Name, fd.Name.Name)
						}
					}
				case *ast.CompositeLit:
					if sel, ok := x.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "TransactWriteItem" {
						for _, e := range x.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if k, ok := kv.Key.(*ast.Ident); ok && txItem[k.Name] != "" {
									add("dynamodb:"+txItem[k.Name], fd.Name.Name)
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	if len(out) == 0 {
		t.Fatalf("found no DynamoDB calls in %s: has the adapter moved?", dynamoDir)
	}
	return out
}
