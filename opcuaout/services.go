package opcuaout

import (
	"log"
	"strings"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uasc"
)

// maxOperations bounds the nodes one Read, Browse or Write names.
const maxOperations = 1000

// sessionService answers one request of an activated session.
type sessionService func(sess *session, r ua.Request) (ua.Response, error)

// registerServices puts the server's own handler on every service the
// library knows (the library registers its own, at Start, only where
// none is), so nothing reaches the library's unchecked ones.
func (s *Server) registerServices() {
	open := map[uint16]server.Handler{
		id.GetEndpointsRequest_Encoding_DefaultBinary:    s.getEndpoints,
		id.FindServersRequest_Encoding_DefaultBinary:     s.findServers,
		id.CreateSessionRequest_Encoding_DefaultBinary:   s.createSession,
		id.ActivateSessionRequest_Encoding_DefaultBinary: s.activateSession,
		id.CloseSessionRequest_Encoding_DefaultBinary:    s.closeSession,
	}
	for typeID, h := range open {
		s.srv.RegisterHandler(typeID, s.guard(h))
	}
	inSession := map[uint16]sessionService{
		id.ReadRequest_Encoding_DefaultBinary:   s.read,
		id.BrowseRequest_Encoding_DefaultBinary: s.browse,
		id.WriteRequest_Encoding_DefaultBinary:  s.write,
		id.CallRequest_Encoding_DefaultBinary:   s.call,
	}
	for typeID, h := range inSession {
		s.srv.RegisterHandler(typeID, s.guard(s.inSession(h)))
	}
	for _, typeID := range unsupported {
		s.srv.RegisterHandler(typeID, s.guard(s.inSession(func(_ *session, r ua.Request) (ua.Response, error) {
			return fault(r.Header(), ua.StatusBadServiceUnsupported), nil
		})))
	}
}

// unsupported are the services the server does not offer (the library
// answers some of them, unchecked: subscriptions, which would serve a
// value once and never again, and node management).
var unsupported = []uint16{
	id.FindServersOnNetworkRequest_Encoding_DefaultBinary, id.RegisterServerRequest_Encoding_DefaultBinary,
	id.RegisterServer2Request_Encoding_DefaultBinary, id.CancelRequest_Encoding_DefaultBinary,
	id.AddNodesRequest_Encoding_DefaultBinary, id.AddReferencesRequest_Encoding_DefaultBinary,
	id.DeleteNodesRequest_Encoding_DefaultBinary, id.DeleteReferencesRequest_Encoding_DefaultBinary,
	id.BrowseNextRequest_Encoding_DefaultBinary, id.TranslateBrowsePathsToNodeIDsRequest_Encoding_DefaultBinary,
	id.RegisterNodesRequest_Encoding_DefaultBinary, id.UnregisterNodesRequest_Encoding_DefaultBinary,
	id.QueryFirstRequest_Encoding_DefaultBinary, id.QueryNextRequest_Encoding_DefaultBinary,
	id.HistoryReadRequest_Encoding_DefaultBinary, id.HistoryUpdateRequest_Encoding_DefaultBinary,
	id.CreateSubscriptionRequest_Encoding_DefaultBinary, id.ModifySubscriptionRequest_Encoding_DefaultBinary,
	id.SetPublishingModeRequest_Encoding_DefaultBinary, id.PublishRequest_Encoding_DefaultBinary,
	id.RepublishRequest_Encoding_DefaultBinary, id.TransferSubscriptionsRequest_Encoding_DefaultBinary,
	id.DeleteSubscriptionsRequest_Encoding_DefaultBinary, id.CreateMonitoredItemsRequest_Encoding_DefaultBinary,
	id.ModifyMonitoredItemsRequest_Encoding_DefaultBinary, id.SetMonitoringModeRequest_Encoding_DefaultBinary,
	id.SetTriggeringRequest_Encoding_DefaultBinary, id.DeleteMonitoredItemsRequest_Encoding_DefaultBinary,
}

// guard wraps every handler: nothing is answered on a channel whose
// ActivateSession is being checked, and a panic (a bug, or the library
// tripping on a client's input) is BadInternalError, never the end of
// the station.
func (s *Server) guard(h server.Handler) server.Handler {
	return func(sc *uasc.SecureChannel, r ua.Request, reqID uint32) (resp ua.Response, err error) {
		if r == nil || s.sessions.busy(sc) {
			return nil, nil
		}
		defer func() {
			if p := recover(); p != nil {
				log.Printf("opcua: %T: %v", r, p)
				resp, err = fault(r.Header(), ua.StatusBadInternalError), nil
			}
		}()
		return h(sc, r, reqID)
	}
}

// inSession serves h only in an activated session on the request's
// channel.
func (s *Server) inSession(h sessionService) server.Handler {
	return func(sc *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
		sess, status := s.sessions.authorize(sc, r.Header())
		if status != ua.StatusOK {
			return fault(r.Header(), status), nil
		}
		return h(sess, r)
	}
}

func header(h *ua.RequestHeader, status ua.StatusCode) *ua.ResponseHeader {
	var handle uint32
	if h != nil {
		handle = h.RequestHandle
	}
	return &ua.ResponseHeader{Timestamp: time.Now(), RequestHandle: handle, ServiceResult: status,
		ServiceDiagnostics: &ua.DiagnosticInfo{}, StringTable: []string{}, AdditionalHeader: ua.NewExtensionObject(nil)}
}

func fault(h *ua.RequestHeader, status ua.StatusCode) ua.Response {
	return &ua.ServiceFault{ResponseHeader: header(h, status)}
}

// getEndpoints is the GetEndpoints service: every endpoint, whatever URL
// the client reached the server by.
func (s *Server) getEndpoints(_ *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req, ok := r.(*ua.GetEndpointsRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	return &ua.GetEndpointsResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Endpoints: s.endpoints}, nil
}

// findServers is the FindServers service: this server.
func (s *Server) findServers(_ *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req, ok := r.(*ua.FindServersRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	return &ua.FindServersResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Servers: []*ua.ApplicationDescription{s.endpoints[0].Server}}, nil
}

// read is the Read service.
func (s *Server) read(_ *session, r ua.Request) (ua.Response, error) {
	req, ok := r.(*ua.ReadRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	if status := operations(len(req.NodesToRead)); status != ua.StatusOK {
		return fault(req.RequestHeader, status), nil
	}
	results := make([]*ua.DataValue, len(req.NodesToRead))
	for i, n := range req.NodesToRead {
		results[i] = s.readOne(n)
	}
	return &ua.ReadResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}, nil
}

func operations(n int) ua.StatusCode {
	switch {
	case n == 0:
		return ua.StatusBadNothingToDo
	case n > maxOperations:
		return ua.StatusBadTooManyOperations
	}
	return ua.StatusOK
}

func badValue(status ua.StatusCode) *ua.DataValue {
	return &ua.DataValue{EncodingMask: ua.DataValueServerTimestamp | ua.DataValueStatusCode, ServerTimestamp: time.Now(), Status: status}
}

// readOne reads one attribute. The library keeps data types as expanded
// node ids; they are read as the node ids the standard says.
func (s *Server) readOne(n *ua.ReadValueID) *ua.DataValue {
	if n == nil || n.NodeID == nil {
		return badValue(ua.StatusBadNodeIDInvalid)
	}
	ns, err := s.srv.Namespace(int(n.NodeID.Namespace()))
	if err != nil {
		return badValue(ua.StatusBadNodeIDUnknown)
	}
	dv := ns.Attribute(n.NodeID, n.AttributeID)
	if n.AttributeID == ua.AttributeIDDataType && dv != nil && dv.Value != nil {
		if e, ok := dv.Value.Value().(*ua.ExpandedNodeID); ok && e.NodeID != nil && e.NamespaceURI == "" && e.ServerIndex == 0 {
			v := *dv
			v.Value = ua.MustVariant(e.NodeID)
			return &v
		}
	}
	return dv
}

// browse is the Browse service (no continuation points: no node here has
// that many references).
func (s *Server) browse(_ *session, r ua.Request) (ua.Response, error) {
	req, ok := r.(*ua.BrowseRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	if status := operations(len(req.NodesToBrowse)); status != ua.StatusOK {
		return fault(req.RequestHeader, status), nil
	}
	results := make([]*ua.BrowseResult, len(req.NodesToBrowse))
	for i, bd := range req.NodesToBrowse {
		results[i] = s.browseOne(bd)
	}
	return &ua.BrowseResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}, nil
}

func (s *Server) browseOne(bd *ua.BrowseDescription) *ua.BrowseResult {
	if bd == nil || bd.NodeID == nil {
		return &ua.BrowseResult{StatusCode: ua.StatusBadNodeIDInvalid}
	}
	ns, err := s.srv.Namespace(int(bd.NodeID.Namespace()))
	if err != nil {
		return &ua.BrowseResult{StatusCode: ua.StatusBadNodeIDUnknown}
	}
	d := *bd
	if d.ReferenceTypeID == nil {
		d.ReferenceTypeID = ua.NewNumericNodeID(0, 0) // all
	}
	res := ns.Browse(&d)
	if res.References == nil {
		res.References = []*ua.ReferenceDescription{}
	}
	for _, ref := range res.References {
		s.fixTypeDefinition(ref)
	}
	return res
}

// fixTypeDefinition gives a reference to one of the station's nodes its
// target's type definition (the library's browse puts its data type
// there).
func (s *Server) fixTypeDefinition(ref *ua.ReferenceDescription) {
	if ref.NodeID == nil || ref.NodeID.NodeID == nil || ref.NodeID.NodeID.Namespace() != s.ns.ID() {
		return
	}
	var typeID uint32
	switch {
	case ref.NodeClass == ua.NodeClassObject:
		typeID = id.FolderType
	case ref.NodeClass == ua.NodeClassVariable && strings.HasSuffix(ref.NodeID.NodeID.StringID(), "Arguments"):
		typeID = id.PropertyType
	case ref.NodeClass == ua.NodeClassVariable:
		typeID = id.BaseDataVariableType
	}
	ref.TypeDefinition = ua.NewNumericExpandedNodeID(0, typeID)
}

// write is the Write service: every node is read-only.
func (s *Server) write(_ *session, r ua.Request) (ua.Response, error) {
	req, ok := r.(*ua.WriteRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	if status := operations(len(req.NodesToWrite)); status != ua.StatusOK {
		return fault(req.RequestHeader, status), nil
	}
	status := make([]ua.StatusCode, len(req.NodesToWrite))
	for i, w := range req.NodesToWrite {
		switch {
		case w == nil || w.NodeID == nil:
			status[i] = ua.StatusBadNodeIDInvalid
		case s.srv.Node(w.NodeID) == nil:
			status[i] = ua.StatusBadNodeIDUnknown
		default:
			status[i] = ua.StatusBadNotWritable
		}
	}
	return &ua.WriteResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK), Results: status,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}, nil
}
