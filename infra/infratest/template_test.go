package infratest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/lambda/boot"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Paths from this package's folder (go test runs in it).
const (
	templatePath = "../template.yaml"
	wranglerPath = "../wrangler.toml"
	lambdaDir    = "../../functions/lambda"
	dynamoDir    = "../../functions/credits/dynamo"
)

// Logical ids of the template's fixed resources.
const (
	tableID      = "LedgerTable"
	apiID        = "HttpApi"
	authorizerID = "TokenAuthorizer"
)

// notLambdas are the folders under functions/lambda that are not functions.
var notLambdas = []string{"boot", "internal"}

// load parses the template with goformation. Intrinsics are not resolved
// against parameter defaults (that would hide which parameter or resource a
// value comes from) but rendered in one readable notation: Ref X and
// GetAtt X.Y become "${X}" and "${X.Y}", a Sub keeps its text, and an If
// becomes the list of the values either branch can give (AWS::NoValue
// dropped), so a test sees every value a deploy may get.
func load(t *testing.T) *cloudformation.Template {
	t.Helper()
	opts := &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
		"Ref": func(_ string, in, tpl any) any {
			name, _ := in.(string)
			if name == "AWS::NoValue" {
				return nil
			}
			// Typed numeric fields cannot hold "${X}": a Number parameter
			// resolves to its default.
			if p, ok := parameter(tpl, name); ok && p["Type"] == "Number" {
				return p["Default"]
			}
			return "${" + name + "}"
		},
		"Fn::GetAtt": func(_ string, in, _ any) any {
			switch v := in.(type) {
			case string:
				return "${" + v + "}"
			case []any:
				parts := make([]string, 0, len(v))
				for _, p := range v {
					s, _ := p.(string)
					parts = append(parts, s)
				}
				return "${" + strings.Join(parts, ".") + "}"
			}
			return nil
		},
		"Fn::Sub": func(_ string, in, _ any) any {
			if v, ok := in.([]any); ok && len(v) > 0 {
				return v[0]
			}
			return in
		},
		"Fn::If": func(_ string, in, _ any) any {
			v, ok := in.([]any)
			if !ok || len(v) != 3 {
				return nil
			}
			var out []any
			for _, branch := range v[1:] {
				switch b := branch.(type) {
				case nil:
				case []any:
					out = append(out, b...)
				default:
					out = append(out, b)
				}
			}
			return out
		},
	}}
	tpl, err := goformation.OpenWithOptions(templatePath, opts)
	if err != nil {
		t.Fatalf("goformation cannot parse %s: %v", templatePath, err)
	}
	return tpl
}

// parameter returns the declaration of parameter name in the raw template.
func parameter(tpl any, name string) (map[string]any, bool) {
	root, _ := tpl.(map[string]any)
	params, _ := root["Parameters"].(map[string]any)
	p, ok := params[name].(map[string]any)
	return p, ok
}

// functions returns the template's serverless functions by their folder
// name under functions/lambda, read from CodeUri.
func functions(t *testing.T, tpl *cloudformation.Template) map[string]*serverless.Function {
	t.Helper()
	byName := map[string]*serverless.Function{}
	for id, f := range tpl.GetAllServerlessFunctionResources() {
		if f.CodeUri == nil || f.CodeUri.String == nil {
			t.Fatalf("%s: CodeUri must be a local path, ../build/lambda/<name>/", id)
		}
		uri := *f.CodeUri.String
		name, ok := strings.CutPrefix(uri, "../build/lambda/")
		name = strings.TrimSuffix(name, "/")
		if !ok || name == "" || strings.Contains(name, "/") {
			t.Fatalf("%s: CodeUri %q, want ../build/lambda/<name>/ (make build-lambda's output)", id, uri)
		}
		if _, dup := byName[name]; dup {
			t.Fatalf("two functions deploy build/lambda/%s", name)
		}
		byName[name] = f
	}
	return byName
}

// functionID returns the logical id of the function deploying name.
func functionID(t *testing.T, tpl *cloudformation.Template, name string) string {
	t.Helper()
	for id, f := range tpl.GetAllServerlessFunctionResources() {
		if f.CodeUri != nil && f.CodeUri.String != nil && strings.TrimSuffix(*f.CodeUri.String, "/") == "../build/lambda/"+name {
			return id
		}
	}
	t.Fatalf("no function deploys build/lambda/%s", name)
	return ""
}

func globalFunction(t *testing.T, tpl *cloudformation.Template) *global.Function {
	t.Helper()
	g, ok := tpl.Globals["Function"].(*global.Function)
	if !ok {
		return &global.Function{}
	}
	return g
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestTemplateIsSAM(t *testing.T) {
	tpl := load(t)
	if tpl.Transform == nil || tpl.Transform.String == nil || *tpl.Transform.String != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform: want AWS::Serverless-2016-10-31")
	}
	for name, p := range tpl.Parameters {
		if p.Description == nil || strings.TrimSpace(*p.Description) == "" {
			t.Errorf("parameter %s has no Description", name)
		}
	}
	for _, out := range []string{"ApiUrl", "TableName"} {
		if _, ok := tpl.Outputs[out]; !ok {
			t.Errorf("no output %s", out)
		}
	}
	if got, want := tpl.Outputs["TableName"].Value, "${"+tableID+"}"; got != want {
		t.Errorf("output TableName = %v, want %v", got, want)
	}
}

// TestEntryPoints: every function's code is a functions/lambda/<name> main
// package, run by provided.al2023 on arm64 as "bootstrap", and every such
// package is deployed.
func TestEntryPoints(t *testing.T) {
	tpl := load(t)
	g := globalFunction(t, tpl)
	fns := functions(t, tpl)
	for name, f := range fns {
		t.Run(name, func(t *testing.T) {
			main := filepath.Join(lambdaDir, name, "main.go")
			file, err := parser.ParseFile(token.NewFileSet(), main, nil, 0)
			if err != nil {
				t.Fatalf("entry point: %v", err)
			}
			if file.Name.Name != "main" {
				t.Errorf("%s: package %s, want main", main, file.Name.Name)
			}
			if file.Scope.Lookup("main") == nil {
				t.Errorf("%s has no func main", main)
			}
			handler, runtime, arch := str(f.Handler), str(f.Runtime), f.Architectures
			if handler == "" {
				handler = str(g.Handler)
			}
			if runtime == "" {
				runtime = str(g.Runtime)
			}
			if arch == nil && g.Architectures != nil {
				arch = *g.Architectures
			}
			if handler != "bootstrap" {
				t.Errorf("Handler = %q, want bootstrap", handler)
			}
			if runtime != "provided.al2023" {
				t.Errorf("Runtime = %q, want provided.al2023", runtime)
			}
			if !slices.Equal(arch, []string{"arm64"}) {
				t.Errorf("Architectures = %v, want [arm64] (make build-lambda builds GOARCH=arm64)", arch)
			}
		})
	}
	dirs, err := os.ReadDir(lambdaDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || slices.Contains(notLambdas, d.Name()) {
			continue
		}
		if _, ok := fns[d.Name()]; !ok {
			t.Errorf("functions/lambda/%s has no function in the template", d.Name())
		}
	}
	for _, f := range boot.Functions() {
		if _, ok := fns[string(f)]; !ok {
			t.Errorf("boot.Functions() names %s; the template does not deploy it", f)
		}
	}
}

// TestEnvironment: each function gets the variables boot reads, from the
// template's own resources and parameters, and never an endpoint override.
func TestEnvironment(t *testing.T) {
	tpl := load(t)
	http := map[string]string{
		boot.EnvTable:           "${" + tableID + "}",
		boot.EnvIssuer:          "${TokenIssuer}",
		boot.EnvAudience:        "${TokenAudience}",
		boot.EnvPublicKeysParam: "${TokenPublicKeysParam}",
	}
	for name, f := range functions(t, tpl) {
		var vars map[string]string
		if f.Environment != nil {
			vars = f.Environment.Variables
		}
		want := http
		keyless := map[string]map[string]string{
			// SweeperFromEnv: the table and the From address, no keys.
			"sweeper": {boot.EnvTable: "${" + tableID + "}", boot.EnvNotifyFrom: "${NotificationFromAddress}"},
			// StoreFromEnv: the table alone.
			"rollup": {boot.EnvTable: "${" + tableID + "}"},
		}
		if w, ok := keyless[name]; ok {
			want = w
			for _, k := range []string{boot.EnvIssuer, boot.EnvAudience, boot.EnvPublicKeysParam} {
				if _, ok := vars[k]; ok {
					t.Errorf("%s: sets %s; it reads no token settings", name, k)
				}
			}
		}
		for k, v := range want {
			if vars[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, vars[k], v)
			}
		}
		if _, ok := vars[boot.EnvDynamoEndpoint]; ok {
			t.Errorf("%s: sets %s, which is for DynamoDB Local only", name, boot.EnvDynamoEndpoint)
		}
	}
}

// TestTableMatchesAdapter: the table is the one functions/credits/dynamo
// expects (its exported schema constants; CreateTable makes the same).
func TestTableMatchesAdapter(t *testing.T) {
	tpl := load(t)
	tbl, err := tpl.GetDynamoDBTableWithName(tableID)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := tpl.Parameters["TableName"]; !ok || p.Default != dynamo.TableNameDefault {
		t.Errorf("parameter TableName default = %v, want dynamo.TableNameDefault %q", p.Default, dynamo.TableNameDefault)
	}
	if got := str(tbl.TableName); got != "${TableName}" {
		t.Errorf("TableName = %q, want the TableName parameter", got)
	}
	if got := str(tbl.BillingMode); got != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %q, want PAY_PER_REQUEST (on-demand)", got)
	}
	type key struct{ name, typ string }
	keys := func(ks []dynamodbKey) []key {
		var out []key
		for _, k := range ks {
			out = append(out, key{k.AttributeName, k.KeyType})
		}
		return out
	}
	var tableKeys []dynamodbKey
	for _, k := range tbl.KeySchema {
		tableKeys = append(tableKeys, dynamodbKey{k.AttributeName, k.KeyType})
	}
	if got, want := keys(tableKeys), []key{{dynamo.AttrPK, "HASH"}, {dynamo.AttrSK, "RANGE"}}; !slices.Equal(got, want) {
		t.Errorf("KeySchema = %v, want %v", got, want)
	}
	var attrs []key
	for _, a := range tbl.AttributeDefinitions {
		attrs = append(attrs, key{a.AttributeName, a.AttributeType})
	}
	slices.SortFunc(attrs, func(a, b key) int { return strings.Compare(a.name, b.name) })
	wantAttrs := []key{{dynamo.AttrGSI1PK, "S"}, {dynamo.AttrGSI1SK, "S"}, {dynamo.AttrGSI2PK, "S"}, {dynamo.AttrGSI2SK, "S"}, {dynamo.AttrPK, "S"}, {dynamo.AttrSK, "S"}}
	slices.SortFunc(wantAttrs, func(a, b key) int { return strings.Compare(a.name, b.name) })
	if !slices.Equal(attrs, wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, want %v", attrs, wantAttrs)
	}
	// The indexes dynamo.CreateTable makes: the sweeper's keys-only index
	// (it reads the items themselves) and the spend's pool index, which
	// carries whole lots so a spend reads them in one Query.
	wantIndexes := []struct {
		name, pk, sk, projection string
	}{
		{dynamo.IndexSweep, dynamo.AttrGSI1PK, dynamo.AttrGSI1SK, "KEYS_ONLY"},
		{dynamo.IndexPool, dynamo.AttrGSI2PK, dynamo.AttrGSI2SK, "ALL"},
	}
	if len(tbl.GlobalSecondaryIndexes) != len(wantIndexes) {
		t.Fatalf("%d global secondary indexes, want %d", len(tbl.GlobalSecondaryIndexes), len(wantIndexes))
	}
	for i, want := range wantIndexes {
		gsi := tbl.GlobalSecondaryIndexes[i]
		if gsi.IndexName != want.name {
			t.Errorf("index %d is %q, want %q", i, gsi.IndexName, want.name)
		}
		var gsiKeys []dynamodbKey
		for _, k := range gsi.KeySchema {
			gsiKeys = append(gsiKeys, dynamodbKey{k.AttributeName, k.KeyType})
		}
		if got, wantKeys := keys(gsiKeys), []key{{want.pk, "HASH"}, {want.sk, "RANGE"}}; !slices.Equal(got, wantKeys) {
			t.Errorf("index %s KeySchema = %v, want %v", want.name, got, wantKeys)
		}
		if gsi.Projection == nil || str(gsi.Projection.ProjectionType) != want.projection {
			t.Errorf("index %s projection: want %s", want.name, want.projection)
		}
	}
	if ttl := tbl.TimeToLiveSpecification; ttl == nil || str(ttl.AttributeName) != dynamo.AttrTTL || !ttl.Enabled {
		t.Errorf("TimeToLiveSpecification: want %q enabled", dynamo.AttrTTL)
	}
	if p := tbl.PointInTimeRecoverySpecification; p == nil || p.PointInTimeRecoveryEnabled == nil || !*p.PointInTimeRecoveryEnabled {
		t.Errorf("point-in-time recovery: want enabled")
	}
	if tbl.DeletionProtectionEnabled == nil || !*tbl.DeletionProtectionEnabled {
		t.Errorf("DeletionProtectionEnabled: want true")
	}
	if tbl.AWSCloudFormationDeletionPolicy != policies.DeletionPolicy("Retain") {
		t.Errorf("DeletionPolicy = %q, want Retain", tbl.AWSCloudFormationDeletionPolicy)
	}
	if tbl.AWSCloudFormationUpdateReplacePolicy != policies.UpdateReplacePolicy("Retain") {
		t.Errorf("UpdateReplacePolicy = %q, want Retain", tbl.AWSCloudFormationUpdateReplacePolicy)
	}
}

type dynamodbKey struct{ AttributeName, KeyType string }

// TestSchedule: the sweeper runs every minute (the plain scheduled event:
// the sweep) and every hour with the input naming the alert check, and
// serves no HTTP.
func TestSchedule(t *testing.T) {
	tpl := load(t)
	sw := functions(t, tpl)["sweeper"]
	if sw == nil {
		t.Fatal("no sweeper function")
	}
	var schedules []string
	for name, ev := range sw.Events {
		switch ev.Type {
		case "Schedule":
			if ev.Properties == nil || ev.Properties.ScheduleEvent == nil {
				t.Errorf("event %s: unreadable Schedule properties", name)
				continue
			}
			s := ev.Properties.ScheduleEvent
			input := ""
			if s.Input != nil {
				input = *s.Input
			}
			schedules = append(schedules, s.Schedule+" "+input)
		default:
			t.Errorf("sweeper event %s of type %s: the sweeper only runs on its schedule", name, ev.Type)
		}
	}
	slices.Sort(schedules)
	if want := []string{`rate(1 hour) {"task": "alerts"}`, "rate(1 minute) "}; !slices.Equal(schedules, want) {
		t.Errorf("sweeper schedules = %q, want %q", schedules, want)
	}
}

// TestAlarms: errors and throttles alarms for every function; the table's
// conditional-check failures and throttled reads and writes.
func TestAlarms(t *testing.T) {
	tpl := load(t)
	type watch struct{ namespace, metric, dimension, value string }
	have := map[watch]bool{}
	for id, a := range tpl.GetAllCloudWatchAlarmResources() {
		for _, d := range a.Dimensions {
			have[watch{str(a.Namespace), str(a.MetricName), d.Name, d.Value}] = true
		}
		for _, action := range a.AlarmActions {
			if action != "${AlarmTopicArn}" {
				t.Errorf("%s: alarm action %q, want the AlarmTopicArn parameter", id, action)
			}
		}
	}
	var want []watch
	for name := range functions(t, tpl) {
		fn := "${" + functionID(t, tpl, name) + "}"
		want = append(want, watch{"AWS/Lambda", "Errors", "FunctionName", fn}, watch{"AWS/Lambda", "Throttles", "FunctionName", fn})
	}
	for _, m := range []string{"ConditionalCheckFailedRequests", "ReadThrottleEvents", "WriteThrottleEvents"} {
		want = append(want, watch{"AWS/DynamoDB", m, "TableName", "${" + tableID + "}"})
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("no alarm on %s %s for %s", w.namespace, w.metric, w.value)
		}
	}
}

// TestNoSecretValues: the template names parameters; it never holds a key.
func TestNoSecretValues(t *testing.T) {
	text, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`(sk|rk)_(live|test)_[A-Za-z0-9]{6,}|whsec_[A-Za-z0-9]{6,}|-----BEGIN|PRIVATE KEY-----`)
	if m := secret.FindString(string(text)); m != "" {
		t.Errorf("the template contains %q: secrets belong in SSM Parameter Store, by name only", m)
	}
}

// TestWranglerConfig: the quote-link Worker's config names the Worker and
// keeps wrangler's telemetry off.
func TestWranglerConfig(t *testing.T) {
	text, err := os.ReadFile(wranglerPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for _, want := range []string{`name = "cloudcredits-quotelink"`, `send_metrics = false`, `main = "../functions/quotelink/build/worker.mjs"`, `[vars]`} {
		if !slices.Contains(lines, want) {
			t.Errorf("%s: no line %s", wranglerPath, want)
		}
	}
}
