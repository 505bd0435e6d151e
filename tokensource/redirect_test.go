package tokensource

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const secretHeader = "X-Api-Key"
const secretValue = "secret-key-that-must-stay-home"

// redirectingServer answers every request with status and a Location of
// target (relative or absolute) and counts requests.
func redirectingServer(t *testing.T, status int, target func(srv *httptest.Server) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, target(srv), status)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// bystander is the other host: it records whatever reaches it.
type bystander struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func newBystander(t *testing.T) *bystander {
	t.Helper()
	b := &bystander{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.headers = append(b.headers, r.Header.Clone())
		b.bodies = append(b.bodies, string(body))
		b.mu.Unlock()
		io.WriteString(w, okBody)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *bystander) requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.headers)
}

func TestRedirectSameOriginKeepsHeadersAndBody(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		var got atomic.Pointer[recorded]
		mux := http.NewServeMux()
		mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, "/final", status)
		})
		mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got.Store(&recorded{method: r.Method, header: r.Header.Clone(), body: string(b)})
			io.WriteString(w, okBody)
		})
		srv := httptest.NewServer(mux)
		e, rec := newRetryEndpoint(t, srv.URL+"/start", WithHeader(secretHeader, secretValue))
		r, err := e.Fetch(context.Background(), Options{RoomName: "r"})
		srv.Close()
		if err != nil || r.ParticipantToken != "tok" {
			t.Errorf("%d: %v %v", status, r, err)
			continue
		}
		final := got.Load()
		if final == nil {
			t.Errorf("%d: /final not reached", status)
			continue
		}
		if v := final.header.Get(secretHeader); v != secretValue {
			t.Errorf("%d: custom header at the same origin = %q, want it kept", status, v)
		}
		if (status == 307 || status == 308) && (final.method != http.MethodPost || final.body != `{"room_name":"r"}`) {
			t.Errorf("%d: final request %s %q, want the POST and body again", status, final.method, final.body)
		}
		if len(rec.waits) != 0 {
			t.Errorf("%d: retried", status)
		}
	}
}

func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		other := newBystander(t)
		srv, calls := redirectingServer(t, status, func(*httptest.Server) string { return other.URL + "/token?k=v" })
		// Both servers listen on 127.0.0.1; only the ports differ.
		e, rec := newRetryEndpoint(t, srv.URL, WithHeader(secretHeader, secretValue))
		_, err := e.Fetch(context.Background(), Options{})
		if !errors.Is(err, ErrCrossOriginRedirect) {
			t.Errorf("%d: err = %v, want ErrCrossOriginRedirect", status, err)
		}
		if err != nil && strings.Contains(err.Error(), "k=v") {
			t.Errorf("%d: error shows the target's query: %v", status, err)
		}
		if n := other.requests(); n != 0 {
			t.Errorf("%d: the other origin got %d requests (headers %v)", status, n, other.headers)
		}
		if calls.Load() != 1 || len(rec.waits) != 0 {
			t.Errorf("%d: %d requests, %d waits; a refused redirect is permanent", status, calls.Load(), len(rec.waits))
		}
	}
}

func TestRedirectOriginComparesSchemeHostAndPort(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://example.com/t", "https://EXAMPLE.com:443/u", true},
		{"http://example.com/t", "http://example.com:80/", true},
		{"http://example.com/t", "https://example.com/t", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8081/", false},
		{"http://example.com/", "http://api.example.com/", false},
		{"http://[::1]:80/", "http://[::1]/", true},
	}
	for _, tt := range tests {
		a, b := mustParseURL(t, tt.a), mustParseURL(t, tt.b)
		if got := origin(a) == origin(b); got != tt.same {
			t.Errorf("same origin %s, %s = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestDevServerIDNeverLeavesItsOrigin(t *testing.T) {
	other := newBystander(t)
	srv, _ := redirectingServer(t, http.StatusTemporaryRedirect, func(*httptest.Server) string { return other.URL + devServerPath })
	e, err := NewDevServer("my-dev-server-id", WithBaseURL(srv.URL), WithRetry(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(context.Background(), Options{RoomName: "r"}); !errors.Is(err, ErrCrossOriginRedirect) {
		t.Errorf("err = %v", err)
	}
	if n := other.requests(); n != 0 {
		t.Errorf("the other origin got %d requests: %v", n, other.headers)
	}
}

func TestRedirectLoopIsPermanent(t *testing.T) {
	srv, calls := redirectingServer(t, http.StatusFound, func(*httptest.Server) string { return "/again" })
	e, rec := newRetryEndpoint(t, srv.URL)
	_, err := e.Fetch(context.Background(), Options{})
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("err = %v, want ErrTooManyRedirects", err)
	}
	if calls.Load() != MaxRedirects || len(rec.waits) != 0 {
		t.Errorf("%d requests and %d waits, want %d requests and no retry", calls.Load(), len(rec.waits), MaxRedirects)
	}
}

func TestRedirectWithCallerCheckRedirect(t *testing.T) {
	t.Run("cannot allow another origin", func(t *testing.T) {
		other := newBystander(t)
		srv, _ := redirectingServer(t, http.StatusTemporaryRedirect, func(*httptest.Server) string { return other.URL })
		var asked atomic.Int32
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { asked.Add(1); return nil }}
		e, _ := newRetryEndpoint(t, srv.URL, WithHTTPClient(client), WithHeader(secretHeader, secretValue))
		if _, err := e.Fetch(context.Background(), Options{}); !errors.Is(err, ErrCrossOriginRedirect) {
			t.Errorf("err = %v", err)
		}
		if other.requests() != 0 || asked.Load() != 0 {
			t.Errorf("other origin got %d requests; CheckRedirect asked %d times", other.requests(), asked.Load())
		}
		// The caller's client is not modified.
		_ = client.CheckRedirect(nil, nil)
		if asked.Load() != 1 {
			t.Error("the caller's CheckRedirect was replaced")
		}
	})
	t.Run("may refuse more, permanently", func(t *testing.T) {
		srv, calls := redirectingServer(t, http.StatusFound, func(*httptest.Server) string { return "/next" })
		refuse := errors.New("no redirects here")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return refuse }}
		e, rec := newRetryEndpoint(t, srv.URL, WithHTTPClient(client))
		if _, err := e.Fetch(context.Background(), Options{}); !errors.Is(err, refuse) {
			t.Errorf("err = %v", err)
		}
		if calls.Load() != 1 || len(rec.waits) != 0 {
			t.Errorf("%d requests, %d waits", calls.Load(), len(rec.waits))
		}
	})
	t.Run("ErrUseLastResponse gives the 3xx", func(t *testing.T) {
		srv, calls := redirectingServer(t, http.StatusFound, func(*httptest.Server) string { return "/next" })
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		e, _ := newRetryEndpoint(t, srv.URL, WithHTTPClient(client))
		_, err := e.Fetch(context.Background(), Options{})
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusFound || calls.Load() != 1 {
			t.Errorf("err = %v after %d requests", err, calls.Load())
		}
	})
	t.Run("replaces the redirect limit", func(t *testing.T) {
		srv, calls := redirectingServer(t, http.StatusFound, func(*httptest.Server) string { return "/again" })
		client := &http.Client{CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("three is enough")
			}
			return nil
		}}
		e, _ := newRetryEndpoint(t, srv.URL, WithHTTPClient(client))
		if _, err := e.Fetch(context.Background(), Options{}); err == nil || calls.Load() != 3 {
			t.Errorf("err = %v after %d requests", err, calls.Load())
		}
	})
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
