package opcuaout

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/server/attrs"
	"github.com/gopcua/opcua/ua"

	"steelinspect/audit"
)

// maxResultID bounds GetResult's input: a record id, a sha256 or a path.
const maxResultID = 4096

// maxCalls bounds the methods one Call request may call.
const maxCalls = 64

// resultField is one field of a result: a LastResult variable and a
// GetResult output argument.
type resultField struct {
	name  string
	typ   ua.TypeID
	desc  string
	value func(in *audit.Inspection) any // in nil: no result
}

// or gives f's value, or none without a result.
func or(none any, f func(in *audit.Inspection) any) func(in *audit.Inspection) any {
	return func(in *audit.Inspection) any {
		if in == nil {
			return none
		}
		return f(in)
	}
}

// resultFields are GetResult's output arguments, in order (all but Found
// are also LastResult's variables).
var resultFields = []resultField{
	{"Found", ua.TypeIDBoolean, "true when a result matched ResultId", func(in *audit.Inspection) any { return in != nil }},
	{"ResultId", ua.TypeIDString, "the audit record id of the result (empty when none)",
		or("", func(in *audit.Inspection) any { return strconv.FormatInt(in.ID, 10) })},
	{"Decision", ua.TypeIDString, "the final decision: PASS, REVIEW or REJECT (empty when none)",
		or("", func(in *audit.Inspection) any { return in.FinalDecision().String() })},
	{"DecisionCode", ua.TypeIDInt32, "0 PASS, 1 REVIEW, 2 REJECT; -1 when none",
		or(int32(-1), func(in *audit.Inspection) any { return int32(in.FinalDecision()) })},
	{"CreationTime", ua.TypeIDDateTime, "when the strip was inspected",
		or(time.Time{}, func(in *audit.Inspection) any { return in.InspectedAt.UTC() })},
	{"DefectScore", ua.TypeIDDouble, "the highest patch probability",
		or(0.0, func(in *audit.Inspection) any { return in.Confidence })},
	{"Reason", ua.TypeIDString, "why it went to review whatever its scores, or the operator's reason",
		or("", func(in *audit.Inspection) any { return reason(in) })},
	{"Path", ua.TypeIDString, "the strip's file", or("", func(in *audit.Inspection) any { return in.Path })},
	{"RecipeId", ua.TypeIDString, "the model: name version sha256",
		or("", func(in *audit.Inspection) any {
			return strings.Join([]string{in.ModelName, in.ModelVersion, in.ModelSHA256}, " ")
		})},
}

// addGetResult adds the method SteelInspect.GetResult under object, with
// its InputArguments and OutputArguments properties.
func (s *Server) addGetResult(object *server.Node) {
	s.methodID = ua.NewStringNodeID(s.ns.ID(), "SteelInspect.GetResult")
	m := server.NewNode(s.methodID, map[ua.AttributeID]*ua.DataValue{
		ua.AttributeIDNodeClass:      server.DataValueFromValue(uint32(ua.NodeClassMethod)),
		ua.AttributeIDBrowseName:     server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: s.ns.ID(), Name: "GetResult"}),
		ua.AttributeIDDisplayName:    server.DataValueFromValue(attrs.DisplayName("GetResult", "")),
		ua.AttributeIDDescription:    server.DataValueFromValue(&ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: "The result of one strip, by its audit record id (or file path, or image sha256)"}),
		ua.AttributeIDExecutable:     server.DataValueFromValue(true),
		ua.AttributeIDUserExecutable: server.DataValueFromValue(true),
	}, nil, nil)
	in := []*ua.Argument{argument("ResultId", ua.TypeIDString, "the strip's audit record id, as LastResult.ResultId gives it; a file path or an image sha256 finds the newest result for it")}
	out := make([]*ua.Argument, len(resultFields))
	for i, f := range resultFields {
		out[i] = argument(f.name, f.typ, f.desc)
	}
	s.ns.AddNode(m)
	m.AddRef(s.arguments("InputArguments", in), server.RefType(id.HasProperty), true)
	m.AddRef(s.arguments("OutputArguments", out), server.RefType(id.HasProperty), true)
	object.AddRef(m, server.RefTypeIDHasComponent, true)
}

func argument(name string, typ ua.TypeID, desc string) *ua.Argument {
	return &ua.Argument{Name: name, DataType: ua.NewNumericNodeID(0, uint32(typ)), ValueRank: -1, ArrayDimensions: []uint32{},
		Description: &ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: desc}}
}

// arguments adds the method's property name (InputArguments or
// OutputArguments): an array of Argument structures.
func (s *Server) arguments(name string, args []*ua.Argument) *server.Node {
	eos := make([]*ua.ExtensionObject, len(args))
	for i, a := range args {
		eos[i] = ua.NewExtensionObject(a)
	}
	value := ua.MustVariant(eos)
	n := server.NewNode(ua.NewStringNodeID(s.ns.ID(), "SteelInspect.GetResult."+name), map[ua.AttributeID]*ua.DataValue{
		ua.AttributeIDNodeClass:       server.DataValueFromValue(uint32(ua.NodeClassVariable)),
		ua.AttributeIDBrowseName:      server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: 0, Name: name}),
		ua.AttributeIDDisplayName:     server.DataValueFromValue(attrs.DisplayName(name, "")),
		ua.AttributeIDDataType:        server.DataValueFromValue(ua.NewNumericExpandedNodeID(0, id.Argument)),
		ua.AttributeIDValueRank:       server.DataValueFromValue(int32(1)),
		ua.AttributeIDArrayDimensions: server.DataValueFromValue([]uint32{uint32(len(args))}),
	}, nil, func() *ua.DataValue { return server.DataValueFromValue(value) })
	readOnly(n)
	s.typeDefinition(n, id.PropertyType)
	s.ns.AddNode(n)
	return n
}

// call is the Call service: SteelInspect.GetResult only.
func (s *Server) call(_ *session, r ua.Request) (ua.Response, error) {
	req, ok := r.(*ua.CallRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	switch n := len(req.MethodsToCall); {
	case n == 0:
		return fault(req.RequestHeader, ua.StatusBadNothingToDo), nil
	case n > maxCalls:
		return fault(req.RequestHeader, ua.StatusBadTooManyOperations), nil
	}
	results := make([]*ua.CallMethodResult, len(req.MethodsToCall))
	for i, m := range req.MethodsToCall {
		results[i] = s.callOne(m)
	}
	return &ua.CallResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}, nil
}

// callOne calls one method.
func (s *Server) callOne(m *ua.CallMethodRequest) *ua.CallMethodResult {
	if status := s.checkMethod(m); status != ua.StatusOK {
		return callResult(status)
	}
	switch n := len(m.InputArguments); {
	case n == 0:
		return callResult(ua.StatusBadArgumentsMissing)
	case n > 1:
		return callResult(ua.StatusBadTooManyArguments)
	}
	key, ok := stringArgument(m.InputArguments[0])
	if !ok {
		r := callResult(ua.StatusBadInvalidArgument)
		r.InputArgumentResults = []ua.StatusCode{ua.StatusBadTypeMismatch}
		return r
	}
	in, err := s.find(key)
	if err != nil {
		return callResult(ua.StatusBadResourceUnavailable)
	}
	r := callResult(ua.StatusOK)
	r.InputArgumentResults = []ua.StatusCode{ua.StatusOK}
	r.OutputArguments = make([]*ua.Variant, len(resultFields))
	for i, f := range resultFields {
		r.OutputArguments[i] = ua.MustVariant(f.value(in))
	}
	return r
}

// checkMethod says whether m calls GetResult on SteelInspect, or why not.
func (s *Server) checkMethod(m *ua.CallMethodRequest) ua.StatusCode {
	if m == nil || m.ObjectID == nil || m.MethodID == nil {
		return ua.StatusBadNodeIDInvalid
	}
	object := s.srv.Node(m.ObjectID)
	switch {
	case object == nil:
		return ua.StatusBadNodeIDUnknown
	case object.NodeClass() != ua.NodeClassObject:
		return ua.StatusBadNodeIDInvalid
	case m.ObjectID.String() != s.objectID.String() || m.MethodID.String() != s.methodID.String():
		return ua.StatusBadMethodInvalid
	}
	return ua.StatusOK
}

func callResult(status ua.StatusCode) *ua.CallMethodResult {
	return &ua.CallMethodResult{StatusCode: status, InputArgumentResults: []ua.StatusCode{},
		InputArgumentDiagnosticInfos: []*ua.DiagnosticInfo{}, OutputArguments: []*ua.Variant{}}
}

// stringArgument is v's String value.
func stringArgument(v *ua.Variant) (string, bool) {
	if v == nil {
		return "", false
	}
	str, ok := v.Value().(string)
	return str, ok
}

// find is the newest result matching key: a record id, an image sha256
// or a file path; nil when none does.
func (s *Server) find(key string) (*audit.Inspection, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > maxResultID {
		return nil, nil
	}
	var q audit.Query
	switch id, err := strconv.ParseInt(key, 10, 64); {
	case err == nil && id > 0:
		q.ID = id
	case err == nil:
		return nil, nil // 0 or negative: no record has it
	case len(key) == 64 && strings.Trim(strings.ToLower(key), "0123456789abcdef") == "":
		q.SHA256 = strings.ToLower(key)
	default:
		q.Path = key
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := s.store.History(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[len(rows)-1], nil
}
