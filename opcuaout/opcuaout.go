// Package opcuaout serves the station's results over OPC UA for the
// line's PLC: a subset of OPC 40100 (OPC UA for Machine Vision), read
// from the audit trail, with the node ids below fixed so a PLC program can
// name them (namespace URI "urn:steelinspect", whatever its index):
//
//	SteelInspect                         folder under Objects
//	SteelInspect.SystemState             String: Preoperational, Operational, Error, Halted
//	SteelInspect.Station                 String: the station's name
//	SteelInspect.LastResult.ResultId     String: the audit record id of the newest inspection
//	SteelInspect.LastResult.CreationTime DateTime
//	SteelInspect.LastResult.ResultState  Int32, OPC 40100 ResultStateDataType: 1 Completed
//	SteelInspect.LastResult.Decision     String: the final decision, PASS, REVIEW or REJECT
//	SteelInspect.LastResult.DecisionCode Int32: 0 PASS, 1 REVIEW, 2 REJECT
//	SteelInspect.LastResult.DefectScore  Double: the highest patch probability
//	SteelInspect.LastResult.Reason       String: why it went to review whatever its scores, if so
//	SteelInspect.LastResult.Path         String: the strip's file
//	SteelInspect.LastResult.RecipeId     String: the model, "name version sha256"
//	SteelInspect.Counters.Pass|Review|Reject|Total  UInt32: final decisions in the trail
//	SteelInspect.Query.RequestId         String, writable: a record id, a file path or an image sha256
//	SteelInspect.Query.Found             Boolean, and Query.ResultId, CreationTime, Decision,
//	                                     DecisionCode, DefectScore, Reason, Path, RecipeId:
//	                                     the newest result matching RequestId
//
// A PLC asks about the strip it holds by writing RequestId and reading
// the Query variables. Every other variable is read-only: the server
// refuses any other write. Security policy None, anonymous: run it on the
// line's own network (the default address is loopback).
package opcuaout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/server/attrs"
	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uasc"

	"steelinspect/audit"
	"steelinspect/inference"
)

// NamespaceURI names the station's namespace.
const NamespaceURI = "urn:steelinspect"

// System states, as OPC 40100's vision state machine names them.
const (
	Preoperational = "Preoperational"
	Operational    = "Operational"
	Error          = "Error"
	Halted         = "Halted"
)

// resultCompleted is OPC 40100's ResultStateDataType for a finished result.
const resultCompleted int32 = 1

// refreshEvery is how often the trail is read when nothing wakes the
// server (another process writes it).
const refreshEvery = time.Second

// Server is the OPC UA server of one station.
type Server struct {
	store   *audit.Store
	station string
	srv     *server.Server
	ns      *server.NodeNameSpace
	request *server.Node // Query.RequestId, the one writable node

	mu     sync.Mutex
	state  string
	last   *audit.Inspection
	counts map[string]int
}

// New makes the server for addr (host:port) over store's trail.
func New(addr, station string, store *audit.Store) (*Server, error) {
	if store == nil {
		return nil, errors.New("opcua: the server reads the audit trail; it needs one")
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("opcua: address %q: %v (want host:port, e.g. 127.0.0.1:4840)", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("opcua: address %q: bad port", addr)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	s := &Server{store: store, station: station, state: Preoperational, counts: map[string]int{}}
	s.srv = server.New(
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.EndPoint(host, port),
		server.ServerName("Steel Inspector "+station),
		server.ProductName("Steel Inspector"),
		server.ManufacturerName("Steel Inspector"),
	)
	s.ns = server.NewNodeNameSpace(s.srv, NamespaceURI)
	s.build()
	// Only Query.RequestId may be written; the library's own write
	// handler lets a client write any node (and fails on an unknown
	// namespace).
	s.srv.RegisterHandler(id.WriteRequest_Encoding_DefaultBinary, s.write)
	return s, nil
}

// build lays out the nodes.
func (s *Server) build() {
	root := s.folder(s.ns.Objects(), "SteelInspect", "SteelInspect")
	// the station's folder under the standard Objects folder, so a browse
	// from the root finds it
	if objects := s.srv.Node(ua.NewNumericNodeID(0, id.ObjectsFolder)); objects != nil {
		objects.AddRef(root, server.RefTypeIDOrganizes, true)
	}
	s.variable(root, "SteelInspect.SystemState", "SystemState", func() any { return s.snapshotState() })
	s.variable(root, "SteelInspect.Station", "Station", func() any { return s.station })

	last := s.folder(root, "SteelInspect.LastResult", "LastResult")
	s.resultVariables(last, "SteelInspect.LastResult.", func() *audit.Inspection {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.last
	})
	s.variable(last, "SteelInspect.LastResult.ResultState", "ResultState", func() any {
		if s.lastResult() == nil {
			return int32(0) // Undefined
		}
		return resultCompleted
	})

	counters := s.folder(root, "SteelInspect.Counters", "Counters")
	for _, c := range []struct{ name, decision string }{{"Pass", "PASS"}, {"Review", "REVIEW"}, {"Reject", "REJECT"}, {"Total", ""}} {
		s.variable(counters, "SteelInspect.Counters."+c.name, c.name, func() any { return s.count(c.decision) })
	}

	query := s.folder(root, "SteelInspect.Query", "Query")
	s.request = server.NewVariableNode(ua.NewStringNodeID(s.ns.ID(), "SteelInspect.Query.RequestId"), "RequestId", "")
	s.readable(s.request, true)
	s.ns.AddNode(s.request)
	query.AddRef(s.request, server.RefTypeIDHasComponent, true)
	s.variable(query, "SteelInspect.Query.Found", "Found", func() any { return s.requested() != nil })
	s.resultVariables(query, "SteelInspect.Query.", s.requested)
}

// folder adds a folder object under parent.
func (s *Server) folder(parent *server.Node, nodeID, name string) *server.Node {
	// (the library's NewFolderNode panics on its own description value)
	f := server.NewNode(ua.NewStringNodeID(s.ns.ID(), nodeID), map[ua.AttributeID]*ua.DataValue{
		ua.AttributeIDNodeClass:     server.DataValueFromValue(uint32(ua.NodeClassObject)),
		ua.AttributeIDBrowseName:    server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: s.ns.ID(), Name: name}),
		ua.AttributeIDDisplayName:   server.DataValueFromValue(attrs.DisplayName(name, name)),
		ua.AttributeIDEventNotifier: server.DataValueFromValue(int16(0)),
	}, nil, nil)
	s.ns.AddNode(f)
	parent.AddRef(f, server.RefTypeIDOrganizes, true)
	return f
}

// variable adds a read-only variable whose value value gives when read.
func (s *Server) variable(parent *server.Node, nodeID, name string, value func() any) {
	n := server.NewVariableNode(ua.NewStringNodeID(s.ns.ID(), nodeID), name, func() *ua.DataValue {
		return server.DataValueFromValue(value())
	})
	s.readable(n, false)
	s.ns.AddNode(n)
	parent.AddRef(n, server.RefTypeIDHasComponent, true)
}

// readable sets a variable's access levels: read, and write only when
// asked.
func (s *Server) readable(n *server.Node, writable bool) {
	level := uint8(ua.AccessLevelTypeCurrentRead)
	if writable {
		level |= uint8(ua.AccessLevelTypeCurrentWrite)
	}
	n.SetAttribute(ua.AttributeIDAccessLevel, server.DataValueFromValue(level))
	n.SetAttribute(ua.AttributeIDUserAccessLevel, server.DataValueFromValue(level))
}

// resultVariables adds the variables of one result (the newest, or the
// one asked about) under parent.
func (s *Server) resultVariables(parent *server.Node, prefix string, get func() *audit.Inspection) {
	field := func(name string, f func(in *audit.Inspection) any, none any) {
		s.variable(parent, prefix+name, name, func() any {
			if in := get(); in != nil {
				return f(in)
			}
			return none
		})
	}
	field("ResultId", func(in *audit.Inspection) any { return strconv.FormatInt(in.ID, 10) }, "")
	field("CreationTime", func(in *audit.Inspection) any { return in.InspectedAt.UTC() }, time.Time{})
	field("Decision", func(in *audit.Inspection) any { return in.FinalDecision() }, "")
	field("DecisionCode", func(in *audit.Inspection) any { return decisionCode(in.FinalDecision()) }, int32(-1))
	field("DefectScore", func(in *audit.Inspection) any { return in.Confidence }, 0.0)
	field("Reason", func(in *audit.Inspection) any { return reason(in) }, "")
	field("Path", func(in *audit.Inspection) any { return in.Path }, "")
	field("RecipeId", func(in *audit.Inspection) any {
		return strings.Join([]string{in.ModelName, in.ModelVersion, in.ModelSHA256}, " ")
	}, "")
}

func decisionCode(d string) int32 {
	p, err := inference.ParseDecision(d)
	if err != nil {
		return -1
	}
	return int32(p)
}

// reason is why the strip went to a person: its cautions, or the
// operator's reason for a decision.
func reason(in *audit.Inspection) string {
	switch {
	case in.Cautions != "":
		return in.Cautions
	case in.ReviewReason != "":
		return in.ReviewReason
	}
	return ""
}

func (s *Server) snapshotState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Server) lastResult() *audit.Inspection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Server) count(decision string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if decision != "" {
		return uint32(s.counts[decision])
	}
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return uint32(n)
}

// requested is the newest result matching Query.RequestId: a record id,
// an image sha256 or a file path; nil when none does.
func (s *Server) requested() *audit.Inspection {
	v := s.request.Value()
	if v == nil || v.Value == nil {
		return nil
	}
	key := strings.TrimSpace(fmt.Sprint(v.Value.Value()))
	if key == "" {
		return nil
	}
	var q audit.Query
	switch id, err := strconv.ParseInt(key, 10, 64); {
	case err == nil && id > 0:
		q.ID = id
	case len(key) == 64 && strings.Trim(strings.ToLower(key), "0123456789abcdef") == "":
		q.SHA256 = strings.ToLower(key)
	default:
		q.Path = key
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := s.store.History(ctx, q)
	if err != nil || len(rows) == 0 {
		return nil
	}
	return &rows[len(rows)-1]
}

// write is the Write service: Query.RequestId only.
func (s *Server) write(_ *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req, ok := r.(*ua.WriteRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	status := make([]ua.StatusCode, len(req.NodesToWrite))
	for i, w := range req.NodesToWrite {
		switch {
		case w == nil || w.NodeID == nil:
			status[i] = ua.StatusBadNodeIDInvalid
		case w.NodeID.String() != s.request.ID().String() || w.AttributeID != ua.AttributeIDValue:
			status[i] = ua.StatusBadNotWritable
		case w.Value == nil || w.Value.Value == nil:
			status[i] = ua.StatusBadTypeMismatch
		default:
			if _, isString := w.Value.Value.Value().(string); !isString {
				status[i] = ua.StatusBadTypeMismatch
				continue
			}
			status[i] = s.ns.SetAttribute(w.NodeID, w.AttributeID, w.Value)
		}
	}
	return &ua.WriteResponse{
		ResponseHeader: &ua.ResponseHeader{Timestamp: time.Now(), RequestHandle: req.RequestHeader.RequestHandle,
			ServiceResult: ua.StatusOK, ServiceDiagnostics: &ua.DiagnosticInfo{}, StringTable: []string{},
			AdditionalHeader: ua.NewExtensionObject(nil)},
		Results: status, DiagnosticInfos: []*ua.DiagnosticInfo{},
	}, nil
}

// refresh reads the newest result and the counters from the trail.
func (s *Server) refresh(ctx context.Context) error {
	last, err := s.store.LastInspection(ctx)
	if err != nil {
		return err
	}
	counts, err := s.store.CountFinal(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.last, s.counts = last, counts
	s.mu.Unlock()
	return nil
}

func (s *Server) setState(state string) {
	s.mu.Lock()
	s.state = state
	s.mu.Unlock()
}

// Listen opens the server's port: an address in use is an error here,
// before anything runs.
func (s *Server) Listen(ctx context.Context) error {
	if err := s.srv.Start(ctx); err != nil {
		return fmt.Errorf("opcua: %v", err)
	}
	return nil
}

// Run serves until ctx is done, following the trail: Operational while
// it reads it, Error while it cannot, Halted once stopping. Call Listen
// first.
func (s *Server) Run(ctx context.Context) error {
	defer s.srv.Close()
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			s.setState(Error)
		} else {
			s.setState(Operational)
		}
		select {
		case <-ctx.Done():
			s.setState(Halted)
			return nil
		case <-s.store.Changes():
		case <-t.C:
		}
	}
}

// Endpoint is the server's endpoint URL.
func (s *Server) Endpoint() string {
	if urls := s.srv.URLs(); len(urls) > 0 {
		return urls[0]
	}
	return ""
}
