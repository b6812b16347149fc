// Package opcuaout serves the station's results over OPC UA for the
// line's PLC: a subset of OPC 40100 (OPC UA for Machine Vision), read
// from the audit trail, with the node ids below fixed so a PLC program can
// name them (namespace URI "urn:steelinspect", whatever its index):
//
//	SteelInspect                         object (folder) under Objects
//	SteelInspect.GetResult               method: the result of one strip, to the caller alone (below)
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
//
// A PLC asks about the strip it holds by calling SteelInspect.GetResult
// (on the object SteelInspect) with one input argument, ResultId (String:
// the audit record id, as LastResult.ResultId gives it; a file path or an
// image sha256 finds the newest result for it). The output arguments, in
// this order: Found (Boolean), ResultId (String), Decision (String),
// DecisionCode (Int32; -1 when not found), CreationTime (DateTime),
// DefectScore (Double), Reason (String), Path (String), RecipeId
// (String). The answer goes in the call's own response, so two PLCs
// asking at once each get their own strip's. The method node has the
// standard InputArguments and OutputArguments properties (Argument
// structures), so a generic client can browse and call it. A wrong
// argument count is BadArgumentsMissing or BadTooManyArguments; a
// ResultId that is not a String is BadInvalidArgument with BadTypeMismatch
// for it; another method is BadMethodInvalid, an unknown object
// BadNodeIdUnknown; a trail that cannot be read BadResourceUnavailable.
//
// Every variable is read-only: every write is refused (BadNotWritable, or
// BadNodeIdUnknown). The server answers only what it implements: Read,
// Browse, Call and the session and discovery services; subscriptions,
// node management, history and the rest are BadServiceUnsupported (poll
// with Read). Every service but discovery needs an activated session.
//
// Who may connect depends on the address (Config.Addr):
//   - loopback (127.0.0.1, ::1, localhost; the default): security policy
//     None and anonymous sessions, for a client on the station itself;
//   - any other address, only with Config.AllowRemote: a user name and
//     password of an enabled station user (the audit trail's users table,
//     any role: make the PLC its own operator), checked with the same
//     bcrypt sign-in as the window and recorded as a sign-in or failed
//     sign-in access event. Anonymous sessions are refused. The password
//     must come encrypted with the server's certificate (the user token
//     policy's Basic256Sha256: RSA-OAEP over the password and the
//     session's nonce); a plain-text password is refused. The certificate
//     is made on first use (self-signed RSA 2048, ten years) and kept next
//     to the trail, opcua-server.der and opcua-server.key (0600);
//     Thumbprint gives its SHA-1 thumbprint for the PLC's trust list.
//
// Message security (Basic256Sha256 Sign & Encrypt) is what remote access
// should have, and the server asks for it as soon as the library can
// give it (signAndEncrypt below). gopcua v0.8.0's server cannot open a
// secured channel at all: it reads the client's encrypted
// OpenSecureChannel request as plain text, because a new channel starts
// in mode None (gopcua issue 815, fixed on its main branch after v0.8.0;
// TestSecuredChannelCanary fails once it works). Until then the channel
// is not signed: the password cannot be read off the line, and a session
// is bound to its TCP connection, but someone who can alter the line's
// traffic could alter an answer. Keep the server on the line's own
// network.
//
// gopcua v0.8.0's server neither checks sessions on its services nor the
// user identity token in ActivateSession, and answers Call with
// "unsupported"; this package registers its own handler for every service
// (services.go, session.go) and keeps the library for the channel, the
// encoding and the address space.
package opcuaout

import (
	"context"
	"crypto/rsa"
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

	"steelinspect/audit"
	"steelinspect/internal/netaddr"
	"steelinspect/verdict"
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

// signAndEncrypt says whether remote access asks for message security,
// Basic256Sha256 Sign & Encrypt: false while gopcua's server cannot open
// a secured channel (see the package comment and
// TestSecuredChannelCanary).
const signAndEncrypt = false

// ErrNoUsers refuses remote access on a station without a user to sign
// in as.
var ErrNoUsers = errors.New("opcua: remote clients sign in as a station user, and this station has no enabled user: add one for the PLC (steelinspect users add NAME --role operator)")

// Config is what New needs.
type Config struct {
	// Addr is where to listen: PORT, :PORT (both loopback) or HOST:PORT.
	Addr string
	// Station names the station on the server.
	Station string
	// Store is the station's audit trail: the results, and the users a
	// remote client signs in as.
	Store *audit.Store
	// AllowRemote allows an address other than loopback, which then needs
	// a station user's name and password.
	AllowRemote bool
	// CertDir holds the server's certificate and key (remote only);
	// empty: the folder of the trail's database.
	CertDir string
}

// Server is the OPC UA server of one station.
type Server struct {
	store   *audit.Store
	station string
	srv     *server.Server
	ns      *server.NodeNameSpace
	remote  bool

	// the server's certificate (DER) and key, remote only
	cert     []byte
	key      *rsa.PrivateKey
	certPath string

	objectID, methodID *ua.NodeID
	sessions           *sessions
	// endpoints are what GetEndpoints and CreateSession give: one, with
	// the channel security (policy, mode) and user token the server asks
	// for
	endpoints []*ua.EndpointDescription
	policy    string
	mode      ua.MessageSecurityMode

	mu     sync.Mutex
	state  string
	last   *audit.Inspection
	counts map[verdict.Decision]int
}

// ListenAddr reads an --opcua address: PORT or :PORT (loopback,
// 127.0.0.1), or HOST:PORT. It gives host:port and whether it binds only
// the loopback interface.
func ListenAddr(s string) (addr string, loopback bool, err error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.Atoi(s); err == nil {
		s = ":" + s
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return "", false, fmt.Errorf("address %q: want PORT, :PORT or HOST:PORT (e.g. 4840 or 10.0.0.5:4840)", s)
	}
	if port, err := strconv.Atoi(portText); err != nil || port <= 0 || port > 65535 {
		return "", false, fmt.Errorf("address %q: the port must be a number from 1 to 65535", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	addr = net.JoinHostPort(host, portText)
	loopback, err = netaddr.IsLoopback(addr)
	return addr, loopback, err
}

// New makes the server described by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("opcua: the server reads the audit trail; it needs one")
	}
	addr, loopback, err := ListenAddr(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("opcua: %v", err)
	}
	if !loopback && !cfg.AllowRemote {
		return nil, fmt.Errorf("opcua: refusing non-loopback %s without AllowRemote", addr)
	}
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	s := &Server{store: cfg.Store, station: cfg.Station, remote: !loopback, state: Preoperational, counts: map[verdict.Decision]int{},
		sessions: newSessions(), policy: ua.SecurityPolicyURINone, mode: ua.MessageSecurityModeNone}
	opts := []server.Option{
		server.EndPoint(host, port),
		server.ServerName("Steel Inspector " + cfg.Station),
		server.ProductName("Steel Inspector"),
		server.ManufacturerName("Steel Inspector"),
	}
	token := &ua.UserTokenPolicy{PolicyID: "anonymous", TokenType: ua.UserTokenTypeAnonymous, SecurityPolicyURI: ua.SecurityPolicyURINone}
	if s.remote {
		sec, err := s.secure(cfg, host)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sec...)
		token = &ua.UserTokenPolicy{PolicyID: "username_basic256sha256", TokenType: ua.UserTokenTypeUserName,
			SecurityPolicyURI: ua.SecurityPolicyURIBasic256Sha256}
	} else {
		opts = append(opts, server.EnableSecurity("None", ua.MessageSecurityModeNone), server.EnableAuthMode(ua.UserTokenTypeAnonymous))
	}
	s.srv = server.New(opts...)
	s.endpoints = []*ua.EndpointDescription{s.endpoint(fmt.Sprintf("opc.tcp://%s", addr), token)}
	s.ns = server.NewNodeNameSpace(s.srv, NamespaceURI)
	s.build()
	s.registerServices()
	return s, nil
}

// endpoint describes the server's one endpoint.
func (s *Server) endpoint(url string, token *ua.UserTokenPolicy) *ua.EndpointDescription {
	return &ua.EndpointDescription{
		EndpointURL: url,
		Server: &ua.ApplicationDescription{
			ApplicationURI:  ApplicationURI(s.station).String(),
			ProductURI:      "urn:steelinspect",
			ApplicationName: &ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: "Steel Inspector " + s.station},
			ApplicationType: ua.ApplicationTypeServer,
			DiscoveryURLs:   []string{url},
		},
		ServerCertificate:   s.cert,
		SecurityMode:        s.mode,
		SecurityPolicyURI:   s.policy,
		UserIdentityTokens:  []*ua.UserTokenPolicy{token},
		TransportProfileURI: "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary",
	}
}

// secure prepares remote access: a user to sign in as, the server's
// certificate (which encrypts the password), and the library's options
// for user names (and Basic256Sha256 Sign & Encrypt once it opens such
// channels).
func (s *Server) secure(cfg Config, host string) ([]server.Option, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := cfg.Store.HasRole(ctx, audit.RoleOperator)
	if err != nil {
		return nil, fmt.Errorf("opcua: %v", err)
	}
	if !ok {
		return nil, ErrNoUsers
	}
	dir := cfg.CertDir
	if dir == "" {
		dir = trailDir(cfg.Store)
	}
	if s.cert, s.key, s.certPath, err = loadOrCreateCert(dir, cfg.Station, host); err != nil {
		return nil, err
	}
	opts := []server.Option{server.Certificate(s.cert), server.PrivateKey(s.key), server.EnableAuthMode(ua.UserTokenTypeUserName)}
	if !signAndEncrypt {
		return append(opts, server.EnableSecurity("None", ua.MessageSecurityModeNone)), nil
	}
	s.policy, s.mode = ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt
	return append(opts, server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSignAndEncrypt)), nil
}

// Remote says whether the server is reachable from the network (and so
// asks for a user name and password).
func (s *Server) Remote() bool { return s.remote }

// Access says in a few words who may connect and how, for the start
// line: on a remote server with the certificate's file and thumbprint.
func (s *Server) Access() string {
	switch {
	case !s.remote:
		return "loopback only, anonymous"
	case signAndEncrypt:
		return fmt.Sprintf("clients sign in as a station user over Basic256Sha256 Sign & Encrypt; server certificate %s, SHA-1 thumbprint %s",
			s.certPath, s.Thumbprint())
	}
	return fmt.Sprintf("clients sign in as a station user, the password encrypted with the server certificate; no message security, keep it on the line network; server certificate %s, SHA-1 thumbprint %s",
		s.certPath, s.Thumbprint())
}

// CertificatePath is the server certificate's file (remote only).
func (s *Server) CertificatePath() string { return s.certPath }

// Thumbprint is the SHA-1 thumbprint of the server's certificate, as OPC
// UA clients show it (remote only; empty on loopback).
func (s *Server) Thumbprint() string {
	if s.cert == nil {
		return ""
	}
	return thumbprint(s.cert)
}

// build lays out the nodes.
func (s *Server) build() {
	root := s.folder(s.ns.Objects(), "SteelInspect", "SteelInspect")
	s.objectID = root.ID()
	// the station's folder under the standard Objects folder, so a browse
	// from the root finds it
	if objects := s.srv.Node(ua.NewNumericNodeID(0, id.ObjectsFolder)); objects != nil {
		objects.AddRef(root, server.RefTypeIDOrganizes, true)
	}
	s.addGetResult(root)
	s.variable(root, "SteelInspect.SystemState", "SystemState", func() any { return s.snapshotState() })
	s.variable(root, "SteelInspect.Station", "Station", func() any { return s.station })

	last := s.folder(root, "SteelInspect.LastResult", "LastResult")
	for _, f := range resultFields {
		if f.name == "Found" {
			continue
		}
		s.variable(last, "SteelInspect.LastResult."+f.name, f.name, func() any { return f.value(s.lastResult()) })
	}
	s.variable(last, "SteelInspect.LastResult.ResultState", "ResultState", func() any {
		if s.lastResult() == nil {
			return int32(0) // Undefined
		}
		return resultCompleted
	})

	counters := s.folder(root, "SteelInspect.Counters", "Counters")
	for _, c := range []struct {
		name     string
		decision verdict.Optional // none: the total
	}{{"Pass", verdict.Some(verdict.Pass)}, {"Review", verdict.Some(verdict.Review)}, {"Reject", verdict.Some(verdict.Reject)}, {"Total", verdict.Optional{}}} {
		s.variable(counters, "SteelInspect.Counters."+c.name, c.name, func() any { return s.count(c.decision) })
	}
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
	s.typeDefinition(f, id.FolderType)
	s.ns.AddNode(f)
	parent.AddRef(f, server.RefTypeIDOrganizes, true)
	return f
}

// typeDefinition gives n a HasTypeDefinition reference to the standard
// type typeID.
func (s *Server) typeDefinition(n *server.Node, typeID uint32) {
	if t := s.srv.Node(ua.NewNumericNodeID(0, typeID)); t != nil {
		n.AddRef(t, server.RefType(id.HasTypeDefinition), true)
	}
}

// variable adds a read-only variable whose value value gives when read,
// with its data type (a built-in one, from the value) and scalar rank.
func (s *Server) variable(parent *server.Node, nodeID, name string, value func() any) {
	n := server.NewVariableNode(ua.NewStringNodeID(s.ns.ID(), nodeID), name, func() *ua.DataValue {
		return server.DataValueFromValue(value())
	})
	readOnly(n)
	if v, err := ua.NewVariant(value()); err == nil {
		// the library keeps data types as expanded node ids; Read gives
		// them as node ids
		n.SetAttribute(ua.AttributeIDDataType, server.DataValueFromValue(ua.NewNumericExpandedNodeID(0, uint32(v.Type()))))
	}
	n.SetAttribute(ua.AttributeIDValueRank, server.DataValueFromValue(int32(-1)))
	s.typeDefinition(n, id.BaseDataVariableType)
	s.ns.AddNode(n)
	parent.AddRef(n, server.RefTypeIDHasComponent, true)
}

// readOnly sets a variable's access levels: read only, for every user.
func readOnly(n *server.Node) {
	level := server.DataValueFromValue(uint8(ua.AccessLevelTypeCurrentRead))
	n.SetAttribute(ua.AttributeIDAccessLevel, level)
	n.SetAttribute(ua.AttributeIDUserAccessLevel, level)
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

// count is the number of inspections of a final decision, or of all of
// them for none.
func (s *Server) count(decision verdict.Optional) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := decision.Get(); ok {
		return uint32(s.counts[d])
	}
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return uint32(n)
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
