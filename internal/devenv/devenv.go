// Package devenv runs a complete local LiveKit development setup in process: a real
// livekit-server (internal/lkserver) and a token endpoint speaking the standard wire contract
// (tokensource.Handler over a tokensource.Minter holding the server's key). Tests and
// `tokencheck --dev` use it; it needs no account and sends nothing off the machine.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Env is a running server plus its token endpoint.
type Env struct {
	Server *lkserver.Server
	Minter *tokensource.Minter
	// EndpointURL is the token endpoint (POST, JSON), e.g. http://127.0.0.1:41234/token.
	EndpointURL string

	http *http.Server
}

// Options tune Start. The zero value is ready to use.
type Options struct {
	Server   lkserver.Config
	TokenTTL time.Duration // default tokensource.DefaultTTL
}

// Start starts the server and the endpoint; Close stops both.
func Start(ctx context.Context, opts ...Options) (*Env, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	srv, err := lkserver.Start(ctx, o.Server)
	if err != nil {
		return nil, err
	}
	var mopts []tokensource.MinterOption
	if o.TokenTTL > 0 {
		mopts = append(mopts, tokensource.WithTTL(o.TokenTTL))
	}
	minter, err := tokensource.NewMinter(srv.APIKey, srv.APISecret, srv.URL(), mopts...)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(srv.Host, "0"))
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("devenv: token endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /token", tokensource.Handler(minter))
	e := &Env{
		Server:      srv,
		Minter:      minter,
		EndpointURL: "http://" + l.Addr().String() + "/token",
		http:        &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	go e.http.Serve(l)
	return e, nil
}

// AdminToken mints a token that may administer room through the server's RoomService API.
func (e *Env) AdminToken(room string) (string, error) {
	return e.Minter.MintWithGrant("devenv-admin", tokensource.VideoGrant{RoomAdmin: true, RoomList: true, Room: room})
}

// Close stops the endpoint and the server.
func (e *Env) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(e.http.Shutdown(ctx), e.Server.Stop())
}
