package opcuaout

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
	"github.com/gopcua/opcua/uasc"

	"steelinspect/audit"
)

// The session service. gopcua v0.8.0's own creates sessions with
// guessable tokens, never checks the user identity token in
// ActivateSession, and no other service of the library asks whether a
// request's session exists at all. So the server keeps its own sessions
// here: CreateSession, ActivateSession (the identity checked: anonymous
// on loopback only, else a station user's name and password) and
// CloseSession, and every other service but discovery asks authorize.

const (
	// nonceLength is the length of the server's nonces (and the least a
	// client's may have on a secured channel).
	nonceLength = 32
	// maxSessions bounds the sessions open at once.
	maxSessions = 64
	// session timeouts: the client asks, within these bounds
	minSessionTimeout     = time.Second
	maxSessionTimeout     = 30 * time.Minute
	defaultSessionTimeout = time.Minute
	// rsaOAEP is how a client encrypts its password for Basic256Sha256.
	rsaOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep"
)

// session is one client's session.
type session struct {
	id, token  *ua.NodeID
	sc         *uasc.SecureChannel // the channel it is bound to
	nonce      []byte              // the server's last nonce
	clientCert []byte
	user       string // who signed in; "" anonymous
	activated  bool
	pending    bool // an ActivateSession is checking a password
	timeout    time.Duration
	lastUsed   time.Time
}

// sessions are the open sessions.
type sessions struct {
	mu      sync.Mutex
	byToken map[string]*session
	// channels with an ActivateSession being checked: nothing else on
	// them is answered meanwhile, so its answer is the one message the
	// channel sends (the library's channel does not order concurrent
	// sends)
	pending map[*uasc.SecureChannel]bool
	// signIn lets one password check (bcrypt, slow on purpose) run at a
	// time
	signIn chan struct{}
}

func newSessions() *sessions {
	return &sessions{byToken: map[string]*session{}, pending: map[*uasc.SecureChannel]bool{}, signIn: make(chan struct{}, 1)}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return b
}

// add opens a session on sc.
func (ss *sessions) add(ns uint16, sc *uasc.SecureChannel, clientCert []byte, timeout time.Duration) (*session, ua.StatusCode) {
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.byToken {
		if now.Sub(s.lastUsed) > s.timeout && !s.pending {
			delete(ss.byToken, k)
		}
	}
	if len(ss.byToken) >= maxSessions {
		return nil, ua.StatusBadTooManySessions
	}
	s := &session{id: ua.NewByteStringNodeID(ns, random(16)), token: ua.NewByteStringNodeID(0, random(32)), sc: sc,
		nonce: random(nonceLength), clientCert: clientCert, timeout: timeout, lastUsed: now}
	ss.byToken[s.token.String()] = s
	return s, ua.StatusOK
}

// get is the session of token, if open and not timed out; ss.mu held.
func (ss *sessions) get(token *ua.NodeID) *session {
	if token == nil {
		return nil
	}
	s := ss.byToken[token.String()]
	if s != nil && time.Since(s.lastUsed) > s.timeout && !s.pending {
		delete(ss.byToken, token.String())
		return nil
	}
	return s
}

// authorize says whether a request on sc may be served: its session is
// open, activated and bound to sc.
func (ss *sessions) authorize(sc *uasc.SecureChannel, h *ua.RequestHeader) (*session, ua.StatusCode) {
	if h == nil {
		return nil, ua.StatusBadSessionIDInvalid
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.get(h.AuthenticationToken)
	switch {
	case s == nil:
		return nil, ua.StatusBadSessionIDInvalid
	case s.sc != sc:
		return nil, ua.StatusBadSecureChannelIDInvalid
	case !s.activated:
		return nil, ua.StatusBadSessionNotActivated
	}
	s.lastUsed = time.Now()
	return s, ua.StatusOK
}

// busy says whether sc has an ActivateSession being checked.
func (ss *sessions) busy(sc *uasc.SecureChannel) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.pending[sc]
}

// channelSecurity is the security policy and mode the client opened sc
// with. gopcua v0.8.0's server channel takes whatever the client asks
// for, whatever the endpoints offer, and has no accessor for it; it is
// read here, read-only, by reflection from the channel's configuration
// (uasc.SecureChannel.cfg, a *uasc.Config). It fails closed: a channel
// whose configuration cannot be read counts as policy None.
func channelSecurity(sc *uasc.SecureChannel) (string, ua.MessageSecurityMode) {
	none := func() (string, ua.MessageSecurityMode) { return ua.SecurityPolicyURINone, ua.MessageSecurityModeNone }
	if sc == nil {
		return none()
	}
	cfg := reflect.ValueOf(sc).Elem().FieldByName("cfg")
	if !cfg.IsValid() || cfg.Kind() != reflect.Pointer || cfg.IsNil() || cfg.Elem().Type() != reflect.TypeFor[uasc.Config]() {
		return none()
	}
	c := cfg.Elem()
	return c.FieldByName("SecurityPolicyURI").String(), ua.MessageSecurityMode(c.FieldByName("SecurityMode").Uint())
}

// secured says whether sc has the security the endpoint asks for (on a
// loopback server, anything).
func (s *Server) secured(sc *uasc.SecureChannel) bool {
	if !s.remote {
		return true
	}
	policy, mode := channelSecurity(sc)
	return policy == s.policy && mode == s.mode
}

// rsaCertificate says whether der is a certificate with an RSA key (the
// library's signing code assumes one).
func rsaCertificate(der []byte) bool {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return false
	}
	_, ok := c.PublicKey.(*rsa.PublicKey)
	return ok
}

// createSession is the CreateSession service.
func (s *Server) createSession(sc *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req, ok := r.(*ua.CreateSessionRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	if !s.secured(sc) {
		return fault(req.RequestHeader, ua.StatusBadSecurityModeRejected), nil
	}
	if _, mode := channelSecurity(sc); mode != ua.MessageSecurityModeNone {
		if !rsaCertificate(req.ClientCertificate) {
			return fault(req.RequestHeader, ua.StatusBadCertificateInvalid), nil
		}
		if len(req.ClientNonce) < nonceLength {
			return fault(req.RequestHeader, ua.StatusBadNonceInvalid), nil
		}
	}
	timeout := time.Duration(req.RequestedSessionTimeout * float64(time.Millisecond))
	switch {
	case timeout <= 0:
		timeout = defaultSessionTimeout
	case timeout < minSessionTimeout:
		timeout = minSessionTimeout
	case timeout > maxSessionTimeout:
		timeout = maxSessionTimeout
	}
	sig, alg, err := sc.NewSessionSignature(req.ClientCertificate, req.ClientNonce)
	if err != nil {
		return fault(req.RequestHeader, ua.StatusBadSecurityChecksFailed), nil
	}
	sess, status := s.sessions.add(s.ns.ID(), sc, req.ClientCertificate, timeout)
	if status != ua.StatusOK {
		return fault(req.RequestHeader, status), nil
	}
	return &ua.CreateSessionResponse{
		ResponseHeader:        header(req.RequestHeader, ua.StatusOK),
		SessionID:             sess.id,
		AuthenticationToken:   sess.token,
		RevisedSessionTimeout: float64(timeout / time.Millisecond),
		ServerNonce:           sess.nonce,
		ServerCertificate:     s.cert,
		ServerEndpoints:       s.endpoints,
		ServerSignature:       &ua.SignatureData{Algorithm: alg, Signature: sig},
	}, nil
}

// activateSession is the ActivateSession service: the client proves it
// holds its certificate's key (on a secured channel) and who it is.
func (s *Server) activateSession(sc *uasc.SecureChannel, r ua.Request, reqID uint32) (ua.Response, error) {
	req, ok := r.(*ua.ActivateSessionRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	if !s.secured(sc) {
		return fault(req.RequestHeader, ua.StatusBadSecurityModeRejected), nil
	}
	s.sessions.mu.Lock()
	sess := s.sessions.get(req.RequestHeader.AuthenticationToken)
	var nonce, cert []byte
	if sess != nil {
		nonce, cert = sess.nonce, sess.clientCert
	}
	s.sessions.mu.Unlock()
	if sess == nil {
		return fault(req.RequestHeader, ua.StatusBadSessionIDInvalid), nil
	}
	if status := verifyClient(sc, req, cert, nonce); status != ua.StatusOK {
		return fault(req.RequestHeader, status), nil
	}
	var token any
	if req.UserIdentityToken != nil {
		token = req.UserIdentityToken.Value
	}
	switch t := token.(type) {
	case nil, *ua.AnonymousIdentityToken:
		if s.remote {
			return fault(req.RequestHeader, ua.StatusBadIdentityTokenRejected), nil
		}
		return s.activated(sc, req.RequestHeader, sess, ""), nil
	case *ua.UserNameIdentityToken:
		if !s.remote {
			return fault(req.RequestHeader, ua.StatusBadIdentityTokenRejected), nil
		}
		password, status := s.password(t, nonce)
		if status != ua.StatusOK {
			return fault(req.RequestHeader, status), nil
		}
		return s.checkUser(sc, req.RequestHeader, reqID, sess, t.UserName, password)
	}
	return fault(req.RequestHeader, ua.StatusBadIdentityTokenInvalid), nil
}

// verifyClient checks the client's signature of the server's certificate
// and nonce with its own key (nothing to check on a channel without
// security).
func verifyClient(sc *uasc.SecureChannel, req *ua.ActivateSessionRequest, cert, nonce []byte) ua.StatusCode {
	if _, mode := channelSecurity(sc); mode == ua.MessageSecurityModeNone {
		return ua.StatusOK
	}
	if req.ClientSignature == nil || !rsaCertificate(cert) {
		return ua.StatusBadApplicationSignatureInvalid
	}
	if err := sc.VerifySessionSignature(cert, nonce, req.ClientSignature.Signature); err != nil {
		return ua.StatusBadApplicationSignatureInvalid
	}
	return ua.StatusOK
}

// password decrypts a user name token's password: RSA-OAEP with the
// server's key over its length, the password and the session's nonce.
func (s *Server) password(t *ua.UserNameIdentityToken, nonce []byte) (string, ua.StatusCode) {
	if !s.userNamePolicy(t.PolicyID) || t.EncryptionAlgorithm != rsaOAEP {
		return "", ua.StatusBadIdentityTokenInvalid
	}
	alg, err := uapolicy.Asymmetric(ua.SecurityPolicyURIBasic256Sha256, s.key, nil)
	if err != nil {
		return "", ua.StatusBadInternalError
	}
	plain, err := alg.Decrypt(t.Password)
	if err != nil || len(plain) < 4 {
		return "", ua.StatusBadIdentityTokenInvalid
	}
	n := int(binary.LittleEndian.Uint32(plain))
	secret := plain[4:]
	if n < len(nonce) || n > len(secret) {
		return "", ua.StatusBadIdentityTokenInvalid
	}
	secret = secret[:n]
	pw, got := secret[:n-len(nonce)], secret[n-len(nonce):]
	if subtle.ConstantTimeCompare(got, nonce) != 1 {
		return "", ua.StatusBadIdentityTokenInvalid
	}
	return string(pw), ua.StatusOK
}

// userNamePolicy says whether id names one of the server's user name
// token policies.
func (s *Server) userNamePolicy(id string) bool {
	for _, ep := range s.endpoints {
		for _, p := range ep.UserIdentityTokens {
			if p.TokenType == ua.UserTokenTypeUserName && p.PolicyID == id {
				return true
			}
		}
	}
	return false
}

// checkUser checks a user's name and password against the station's
// users (audit.Store.SignIn: bcrypt, and a sign-in or failed sign-in
// access event) off the service loop, which serves every client in turn,
// and answers when done. Any enabled user may: each role includes an
// operator's.
func (s *Server) checkUser(sc *uasc.SecureChannel, h *ua.RequestHeader, reqID uint32, sess *session, name, password string) (ua.Response, error) {
	ss := s.sessions
	ss.mu.Lock()
	if sess.pending {
		ss.mu.Unlock()
		return fault(h, ua.StatusBadInvalidState), nil
	}
	sess.pending, ss.pending[sc] = true, true
	ss.mu.Unlock()
	from := "OPC UA"
	if a := sc.RemoteAddr(); a != nil {
		from += " from " + a.String()
	}
	go func() {
		ss.signIn <- struct{}{}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		u, err := s.store.SignIn(ctx, name, password, audit.EventSignIn, from)
		cancel()
		<-ss.signIn
		var resp ua.Response
		switch {
		case errors.Is(err, audit.ErrWrongPassword) || err == nil && !u.Can(audit.RoleOperator):
			resp = fault(h, ua.StatusBadUserAccessDenied)
		case err != nil:
			resp = fault(h, ua.StatusBadInternalError)
		default:
			resp = s.activated(sc, h, sess, u.Name)
		}
		ss.mu.Lock()
		sess.pending = false
		delete(ss.pending, sc)
		ss.mu.Unlock()
		sc.SendResponseWithContext(context.Background(), reqID, resp)
	}()
	return nil, nil // answered by the goroutine
}

// activated activates sess for user on sc, and is the answer.
func (s *Server) activated(sc *uasc.SecureChannel, h *ua.RequestHeader, sess *session, user string) ua.Response {
	nonce := random(nonceLength)
	s.sessions.mu.Lock()
	sess.sc, sess.user, sess.activated, sess.nonce, sess.lastUsed = sc, user, true, nonce, time.Now()
	s.sessions.mu.Unlock()
	return &ua.ActivateSessionResponse{ResponseHeader: header(h, ua.StatusOK), ServerNonce: nonce,
		Results: []ua.StatusCode{}, DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

// closeSession is the CloseSession service.
func (s *Server) closeSession(sc *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req, ok := r.(*ua.CloseSessionRequest)
	if !ok {
		return nil, ua.StatusBadRequestTypeInvalid
	}
	ss := s.sessions
	ss.mu.Lock()
	sess := ss.get(req.RequestHeader.AuthenticationToken)
	ok = sess != nil && sess.sc == sc && !sess.pending
	if ok {
		delete(ss.byToken, sess.token.String())
	}
	ss.mu.Unlock()
	if !ok {
		return fault(req.RequestHeader, ua.StatusBadSessionIDInvalid), nil
	}
	return &ua.CloseSessionResponse{ResponseHeader: header(req.RequestHeader, ua.StatusOK)}, nil
}
