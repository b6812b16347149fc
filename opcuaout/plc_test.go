package opcuaout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"steelinspect/audit"
	"steelinspect/internal/testnet"
	"steelinspect/verdict"
)

// These tests drive the server with a real OPC UA client (gopcua's), over
// TCP, as a PLC would.

// strips are the records of a test trail.
type strips struct{ pass, review, reject int64 }

// newTrail makes a trail of three strips: a PASS, a REVIEW an operator
// rejected, and a REJECT.
func newTrail(t *testing.T) (*audit.Store, strips) {
	t.Helper()
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	add := func(path, sha string, decision verdict.Decision, conf float64, cautions string) int64 {
		id, err := store.Add(ctx, audit.Inspection{Source: "watch", Path: path, SHA256: strings.Repeat(sha, 64), Width: 1600, Height: 256,
			Bytes: 1, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: "abc", PassThreshold: 0.4, RejectThreshold: 0.65,
			Confidence: conf, MeanProbability: conf / 2, AutoDecision: decision, Cautions: cautions})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	var s strips
	s.pass = add("/cam/a.jpg", "a", verdict.Pass, 0.2, "")
	s.review = add("/cam/b.jpg", "b", verdict.Review, 0.5, "unfamiliar strip: the model was not trained on strips like this")
	s.reject = add("/cam/c.jpg", "c", verdict.Reject, 0.93, "")
	if err := store.Review(ctx, s.review, verdict.Reject, "ana", ""); err != nil {
		t.Fatal(err)
	}
	return store, s
}

// start runs a server for cfg until the test ends.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	if err := s.Listen(ctx); err != nil {
		stop()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for s.snapshotState() != Operational && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// startLoopback runs a loopback server over store and gives its URL.
func startLoopback(t *testing.T, store *audit.Store) (*Server, string) {
	t.Helper()
	port := testnet.FreePort(t)
	s := start(t, Config{Addr: fmt.Sprint(port), Station: "line3", Store: store})
	return s, fmt.Sprintf("opc.tcp://127.0.0.1:%d", port)
}

// connect opens a session as a client would; the test closes it.
func connect(t *testing.T, url string, opts ...opcua.Option) (*opcua.Client, error) {
	t.Helper()
	opts = append([]opcua.Option{opcua.AutoReconnect(false), opcua.RequestTimeout(10 * time.Second), opcua.DialTimeout(5 * time.Second)}, opts...)
	c, err := opcua.NewClient(url, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, nil
}

// anonymous opens an anonymous session without security.
func anonymous(t *testing.T, url string) *opcua.Client {
	t.Helper()
	c, err := connect(t, url, opcua.SecurityPolicy("None"), opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AuthAnonymous())
	if err != nil {
		t.Fatalf("anonymous session on %s: %v", url, err)
	}
	return c
}

// nodes names the station's nodes for a client.
type nodes struct{ ns uint16 }

func stationNodes(t *testing.T, c *opcua.Client) nodes {
	t.Helper()
	ns, err := c.FindNamespace(context.Background(), NamespaceURI)
	if err != nil {
		t.Fatal(err)
	}
	return nodes{ns}
}

func (n nodes) id(name string) *ua.NodeID { return ua.NewStringNodeID(n.ns, name) }

// getResult calls SteelInspect.GetResult with args.
func (n nodes) getResult(c *opcua.Client, args ...any) (*ua.CallMethodResult, error) {
	in := make([]*ua.Variant, len(args))
	for i, a := range args {
		in[i] = ua.MustVariant(a)
	}
	return c.Call(context.Background(), &ua.CallMethodRequest{ObjectID: n.id("SteelInspect"), MethodID: n.id("SteelInspect.GetResult"), InputArguments: in})
}

// answer is GetResult's output by name.
func answer(t *testing.T, r *ua.CallMethodResult) map[string]any {
	t.Helper()
	if r.StatusCode != ua.StatusOK {
		t.Fatalf("GetResult: %v", r.StatusCode)
	}
	if len(r.OutputArguments) != len(resultFields) {
		t.Fatalf("GetResult gave %d output arguments, want %d", len(r.OutputArguments), len(resultFields))
	}
	out := map[string]any{}
	for i, f := range resultFields {
		out[f.name] = r.OutputArguments[i].Value()
	}
	return out
}

// TestGetResultRace: two PLCs at once, 300 GetResult calls each, one
// asking about a REJECT strip and the other about a PASS strip: every
// answer is about the strip asked for. (With the shared, writable
// Query.RequestId this replaced, the PLC asking about the REJECT strip
// read the PASS strip's result 110 times in 300.)
func TestGetResultRace(t *testing.T) {
	const rounds = 300
	store, st := newTrail(t)
	_, url := startLoopback(t, store)
	plcs := []struct {
		id       int64
		decision string
		code     int32
	}{{st.reject, "REJECT", 2}, {st.pass, "PASS", 0}}
	wrong := make([]int, len(plcs))
	errs := make([]error, len(plcs))
	var wg sync.WaitGroup
	began := time.Now()
	for i, p := range plcs {
		c := anonymous(t, url)
		n := stationNodes(t, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				r, err := n.getResult(c, fmt.Sprint(p.id))
				if err != nil || r.StatusCode != ua.StatusOK || len(r.OutputArguments) != len(resultFields) {
					errs[i] = fmt.Errorf("GetResult(%d): %v %v", p.id, err, r)
					return
				}
				got := r.OutputArguments
				if got[0].Value() != true || got[1].Value() != fmt.Sprint(p.id) || got[2].Value() != p.decision || got[3].Value() != p.code {
					wrong[i]++
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PLC %d: %v", i, err)
		}
	}
	t.Logf("%d GetResult calls from 2 clients at once in %v: %d and %d wrong answers", 2*rounds, time.Since(began).Round(time.Millisecond), wrong[0], wrong[1])
	if wrong[0]+wrong[1] != 0 {
		t.Errorf("wrong answers: %d of %d for the REJECT strip, %d of %d for the PASS strip", wrong[0], rounds, wrong[1], rounds)
	}
}

// TestGetResult: by record id, path and sha256; an unknown id is
// Found=false; bad arguments, methods and objects are Bad status codes,
// and the server goes on serving.
func TestGetResult(t *testing.T) {
	store, st := newTrail(t)
	_, url := startLoopback(t, store)
	c := anonymous(t, url)
	n := stationNodes(t, c)

	for _, key := range []string{fmt.Sprint(st.review), "/cam/b.jpg", strings.Repeat("b", 64), strings.Repeat("B", 64)} {
		r, err := n.getResult(c, key)
		if err != nil {
			t.Fatal(err)
		}
		got := answer(t, r)
		if got["Found"] != true || got["ResultId"] != fmt.Sprint(st.review) || got["Decision"] != "REJECT" || got["DecisionCode"] != int32(2) ||
			got["Path"] != "/cam/b.jpg" || got["DefectScore"] != 0.5 || got["RecipeId"] != "steel 4.0.0 abc" ||
			!strings.HasPrefix(got["Reason"].(string), "unfamiliar strip") {
			t.Errorf("GetResult(%q) = %v", key, got)
		}
		if ct, _ := got["CreationTime"].(time.Time); time.Since(ct) > time.Hour {
			t.Errorf("GetResult(%q) CreationTime %v", key, got["CreationTime"])
		}
	}
	for _, unknown := range []string{"999", "0", "-3", "", "/cam/none.jpg", strings.Repeat("9", 64), strings.Repeat("x", 5000)} {
		r, err := n.getResult(c, unknown)
		if err != nil {
			t.Fatal(err)
		}
		if got := answer(t, r); got["Found"] != false || got["ResultId"] != "" || got["Decision"] != "" || got["DecisionCode"] != int32(-1) {
			t.Errorf("GetResult(%.20q) = %v, want Found=false", unknown, got)
		}
	}

	bad := []struct {
		what           string
		object, method *ua.NodeID
		args           []any
		want, wantArg  ua.StatusCode
	}{
		{"no argument", n.id("SteelInspect"), n.id("SteelInspect.GetResult"), nil, ua.StatusBadArgumentsMissing, 0},
		{"two arguments", n.id("SteelInspect"), n.id("SteelInspect.GetResult"), []any{"1", "2"}, ua.StatusBadTooManyArguments, 0},
		{"an Int32", n.id("SteelInspect"), n.id("SteelInspect.GetResult"), []any{int32(3)}, ua.StatusBadInvalidArgument, ua.StatusBadTypeMismatch},
		{"a Boolean", n.id("SteelInspect"), n.id("SteelInspect.GetResult"), []any{true}, ua.StatusBadInvalidArgument, ua.StatusBadTypeMismatch},
		{"another method", n.id("SteelInspect"), n.id("SteelInspect.Delete"), []any{"1"}, ua.StatusBadMethodInvalid, 0},
		{"a variable as method", n.id("SteelInspect"), n.id("SteelInspect.Station"), []any{"1"}, ua.StatusBadMethodInvalid, 0},
		{"another object", n.id("SteelInspect.LastResult"), n.id("SteelInspect.GetResult"), []any{"1"}, ua.StatusBadMethodInvalid, 0},
		{"the Objects folder", ua.NewNumericNodeID(0, id.ObjectsFolder), n.id("SteelInspect.GetResult"), []any{"1"}, ua.StatusBadMethodInvalid, 0},
		{"an unknown object", n.id("Nothing"), n.id("SteelInspect.GetResult"), []any{"1"}, ua.StatusBadNodeIDUnknown, 0},
		{"a variable as object", n.id("SteelInspect.Station"), n.id("SteelInspect.GetResult"), []any{"1"}, ua.StatusBadNodeIDInvalid, 0},
		{"an unknown namespace", ua.NewStringNodeID(40, "SteelInspect"), n.id("SteelInspect.GetResult"), []any{"1"}, ua.StatusBadNodeIDUnknown, 0},
	}
	for _, b := range bad {
		in := make([]*ua.Variant, len(b.args))
		for i, a := range b.args {
			in[i] = ua.MustVariant(a)
		}
		r, err := c.Call(context.Background(), &ua.CallMethodRequest{ObjectID: b.object, MethodID: b.method, InputArguments: in})
		if err != nil {
			t.Fatalf("%s: %v", b.what, err)
		}
		if r.StatusCode != b.want || len(r.OutputArguments) != 0 {
			t.Errorf("%s: %v with %d outputs, want %v", b.what, r.StatusCode, len(r.OutputArguments), b.want)
		}
		if b.wantArg != 0 && (len(r.InputArgumentResults) != 1 || r.InputArgumentResults[0] != b.wantArg) {
			t.Errorf("%s: argument results %v, want [%v]", b.what, r.InputArgumentResults, b.wantArg)
		}
	}
	// a call of nothing, and still serving after all that
	var res *ua.CallResponse
	err := c.Send(context.Background(), &ua.CallRequest{}, func(v ua.Response) error {
		res, _ = v.(*ua.CallResponse)
		return nil
	})
	if !errors.Is(err, ua.StatusBadNothingToDo) {
		t.Errorf("a Call of no method: %v %v", err, res)
	}
	if r, err := n.getResult(c, fmt.Sprint(st.pass)); err != nil || answer(t, r)["Decision"] != "PASS" {
		t.Errorf("GetResult after the bad calls: %v %v", r, err)
	}
}

// TestBrowseAndArguments: a generic client finds the method under
// SteelInspect and reads its InputArguments and OutputArguments
// properties, Argument structures in the documented order.
func TestBrowseAndArguments(t *testing.T) {
	store, _ := newTrail(t)
	_, url := startLoopback(t, store)
	c := anonymous(t, url)
	n := stationNodes(t, c)

	refs := browse(t, c, ua.NewNumericNodeID(0, id.ObjectsFolder), id.HierarchicalReferences)
	if refs["SteelInspect"] == nil {
		t.Fatalf("SteelInspect not under Objects: %v", keys(refs))
	}
	under := browse(t, c, n.id("SteelInspect"), id.HierarchicalReferences)
	m := under["GetResult"]
	if m == nil || m.NodeClass != ua.NodeClassMethod || m.NodeID.NodeID.String() != n.id("SteelInspect.GetResult").String() {
		t.Fatalf("GetResult under SteelInspect: %v (all: %v)", m, keys(under))
	}
	for _, name := range []string{"SystemState", "Station", "LastResult", "Counters"} {
		if under[name] == nil {
			t.Errorf("%s not under SteelInspect", name)
		}
	}
	if under["Query"] != nil {
		t.Error("the writable Query folder is still there")
	}
	props := browse(t, c, n.id("SteelInspect.GetResult"), id.HasProperty)
	want := map[string][]string{
		"InputArguments":  {"ResultId"},
		"OutputArguments": {"Found", "ResultId", "Decision", "DecisionCode", "CreationTime", "DefectScore", "Reason", "Path", "RecipeId"},
	}
	types := map[string]uint32{"ResultId": id.String, "Found": id.Boolean, "Decision": id.String, "DecisionCode": id.Int32,
		"CreationTime": id.DateTime, "DefectScore": id.Double, "Reason": id.String, "Path": id.String, "RecipeId": id.String}
	for prop, names := range want {
		p := props[prop]
		if p == nil || p.BrowseName.NamespaceIndex != 0 || p.TypeDefinition.NodeID.IntID() != id.PropertyType {
			t.Fatalf("%s: %+v", prop, p)
		}
		v, err := c.Node(p.NodeID.NodeID).Value(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		eos, _ := v.Value().([]*ua.ExtensionObject)
		var got []string
		for _, eo := range eos {
			a, ok := eo.Value.(*ua.Argument)
			if !ok {
				t.Fatalf("%s holds %T", prop, eo.Value)
			}
			got = append(got, a.Name)
			if a.DataType.IntID() != types[a.Name] || a.ValueRank != -1 {
				t.Errorf("%s %s: data type %v, rank %d", prop, a.Name, a.DataType, a.ValueRank)
			}
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Errorf("%s = %v, want %v", prop, got, names)
		}
		dt, err := c.Node(p.NodeID.NodeID).Attribute(context.Background(), ua.AttributeIDDataType)
		if err != nil || dt.NodeID() == nil || dt.NodeID().IntID() != id.Argument {
			t.Errorf("%s DataType %v %v, want i=%d (Argument)", prop, dt, err, id.Argument)
		}
	}
	exe, err := c.Node(n.id("SteelInspect.GetResult")).Attribute(context.Background(), ua.AttributeIDExecutable)
	if err != nil || exe.Value() != true {
		t.Errorf("GetResult Executable: %v %v", exe, err)
	}
	dt, err := c.Node(n.id("SteelInspect.LastResult.DecisionCode")).Attribute(context.Background(), ua.AttributeIDDataType)
	if err != nil || dt.NodeID() == nil || dt.NodeID().IntID() != id.Int32 {
		t.Errorf("LastResult.DecisionCode DataType %v %v, want Int32", dt, err)
	}
}

// browse gives the references of node of refType (and subtypes) by
// browse name.
func browse(t *testing.T, c *opcua.Client, node *ua.NodeID, refType uint32) map[string]*ua.ReferenceDescription {
	t.Helper()
	res, err := c.Browse(context.Background(), &ua.BrowseRequest{NodesToBrowse: []*ua.BrowseDescription{{NodeID: node,
		BrowseDirection: ua.BrowseDirectionForward, ReferenceTypeID: ua.NewNumericNodeID(0, refType), IncludeSubtypes: true,
		ResultMask: uint32(ua.BrowseResultMaskAll)}}})
	if err != nil || len(res.Results) != 1 || res.Results[0].StatusCode != ua.StatusOK {
		t.Fatalf("browse %v: %v %v", node, err, res)
	}
	out := map[string]*ua.ReferenceDescription{}
	for _, r := range res.Results[0].References {
		out[r.BrowseName.Name] = r
	}
	return out
}

func keys(m map[string]*ua.ReferenceDescription) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	return k
}

// TestReadOnly: every node of the station, browsed from SteelInspect
// down, refuses a write; variables say read-only; an unknown node is
// BadNodeIdUnknown; the values stay as they were.
func TestReadOnly(t *testing.T) {
	store, _ := newTrail(t)
	_, url := startLoopback(t, store)
	c := anonymous(t, url)
	n := stationNodes(t, c)

	all := []*ua.NodeID{n.id("SteelInspect")}
	for i := 0; i < len(all); i++ {
		for _, r := range browse(t, c, all[i], id.References) {
			if r.NodeID.NodeID.Namespace() == n.ns {
				all = append(all, r.NodeID.NodeID)
			}
		}
	}
	if len(all) < 20 {
		t.Fatalf("browsed only %d nodes", len(all))
	}
	writes := make([]*ua.WriteValue, 0, len(all)+2)
	for _, node := range all {
		writes = append(writes, &ua.WriteValue{NodeID: node, AttributeID: ua.AttributeIDValue,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant("PASS")}})
	}
	writes = append(writes,
		&ua.WriteValue{NodeID: n.id("SteelInspect.LastResult.DecisionCode"), AttributeID: ua.AttributeIDValue,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(int32(0))}},
		&ua.WriteValue{NodeID: n.id("SteelInspect.Station"), AttributeID: ua.AttributeIDDisplayName,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(&ua.LocalizedText{Text: "x"})}})
	res, err := c.Write(context.Background(), &ua.WriteRequest{NodesToWrite: writes})
	if err != nil || len(res.Results) != len(writes) {
		t.Fatalf("write: %v %v", err, res)
	}
	for i, st := range res.Results {
		if st != ua.StatusBadNotWritable {
			t.Errorf("write of %v attribute %v: %v, want BadNotWritable", writes[i].NodeID, writes[i].AttributeID, st)
		}
	}
	for _, unknown := range []*ua.NodeID{n.id("SteelInspect.Query.RequestId"), ua.NewStringNodeID(9, "Nothing")} {
		res, err := c.Write(context.Background(), &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{{NodeID: unknown, AttributeID: ua.AttributeIDValue,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant("1")}}}})
		if err != nil || len(res.Results) != 1 || res.Results[0] != ua.StatusBadNodeIDUnknown {
			t.Errorf("write of unknown %v: %v %v", unknown, err, res)
		}
	}
	for _, name := range []string{"SteelInspect.LastResult.Decision", "SteelInspect.Counters.Total", "SteelInspect.SystemState"} {
		v, err := c.Node(n.id(name)).Attribute(context.Background(), ua.AttributeIDUserAccessLevel)
		if err != nil || v.Value() != uint8(ua.AccessLevelTypeCurrentRead) {
			t.Errorf("%s UserAccessLevel %v %v, want read only", name, v, err)
		}
	}
	if v, err := c.Node(n.id("SteelInspect.LastResult.Decision")).Value(context.Background()); err != nil || v.Value() != "REJECT" {
		t.Errorf("LastResult.Decision after the writes: %v %v", v, err)
	}
}

// TestSessionRequired: without a session nothing but discovery is
// answered; services the server does not offer say so.
func TestSessionRequired(t *testing.T) {
	store, _ := newTrail(t)
	_, url := startLoopback(t, store)
	ctx := context.Background()
	raw, err := opcua.NewClient(url, opcua.AutoReconnect(false), opcua.SecurityMode(ua.MessageSecurityModeNone))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Dial(ctx); err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	eps, err := raw.GetEndpoints(ctx)
	if err != nil || len(eps.Endpoints) != 1 || eps.Endpoints[0].SecurityMode != ua.MessageSecurityModeNone {
		t.Fatalf("GetEndpoints without a session: %v %v", err, eps)
	}
	read := &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewStringNodeID(2, "SteelInspect.LastResult.Decision"), AttributeID: ua.AttributeIDValue}}}
	if _, err := raw.Read(ctx, read); !errors.Is(err, ua.StatusBadSessionIDInvalid) {
		t.Errorf("Read without a session: %v, want BadSessionIdInvalid", err)
	}
	call := &ua.CallMethodRequest{ObjectID: ua.NewStringNodeID(2, "SteelInspect"),
		MethodID: ua.NewStringNodeID(2, "SteelInspect.GetResult"), InputArguments: []*ua.Variant{ua.MustVariant("1")}}
	if _, err := raw.Call(ctx, call); !errors.Is(err, ua.StatusBadSessionIDInvalid) {
		t.Errorf("Call without a session: %v, want BadSessionIdInvalid", err)
	}

	c := anonymous(t, url)
	for _, req := range []ua.Request{
		&ua.CreateSubscriptionRequest{RequestedPublishingInterval: 100, RequestedLifetimeCount: 100, RequestedMaxKeepAliveCount: 10},
		&ua.CreateMonitoredItemsRequest{SubscriptionID: 1},
		&ua.AddNodesRequest{},
	} {
		if err := c.Send(ctx, req, func(ua.Response) error { return nil }); !errors.Is(err, ua.StatusBadServiceUnsupported) {
			t.Errorf("%T: %v, want BadServiceUnsupported", req, err)
		}
	}
}

// TestLoopbackDefault: PORT and :PORT listen on 127.0.0.1 only (not on
// the machine's other addresses) and anonymous; another address needs
// AllowRemote.
func TestLoopbackDefault(t *testing.T) {
	store, _ := newTrail(t)
	for _, form := range []string{"%d", ":%d"} {
		port := testnet.FreePort(t)
		s := start(t, Config{Addr: fmt.Sprintf(form, port), Station: "line3", Store: store})
		if want := fmt.Sprintf("opc.tcp://127.0.0.1:%d", port); s.Endpoint() != want || s.Remote() || s.Thumbprint() != "" {
			t.Errorf("--opcua %s: endpoint %s remote %v, want %s", fmt.Sprintf(form, port), s.Endpoint(), s.Remote(), want)
		}
		anonymous(t, s.Endpoint())
		if ip := otherAddress(); ip != nil {
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), fmt.Sprint(port)), 2*time.Second); err == nil {
				conn.Close()
				t.Errorf("the loopback server answers on %s", ip)
			}
		}
	}
	for _, addr := range []string{"0.0.0.0:4840", "[::]:4840", "10.1.2.3:4840", "plc.example:4840"} {
		if _, err := New(Config{Addr: addr, Store: store}); err == nil || !strings.Contains(err.Error(), "non-loopback") {
			t.Errorf("New(%s) without AllowRemote: %v", addr, err)
		}
	}
	for _, addr := range []string{"", "x", "70000", "host:port", "1.2.3.4"} {
		if _, err := New(Config{Addr: addr, Store: store}); err == nil {
			t.Errorf("New(%q) accepted", addr)
		}
	}
}

// otherAddress is one of this machine's non-loopback IPv4 addresses, if
// it has one.
func otherAddress() net.IP {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	return nil
}
