package livekit_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

type received struct {
	data []byte
	from string
	info any
	err  error
}

func randomText(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

func sameData(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("%s: got %d bytes, want %d (sha256 differs)", what, len(got), len(want))
	}
}

func waitRecv(t *testing.T, ch chan received, d time.Duration) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		t.Fatalf("nothing received within %v", d)
	}
	return received{}
}

func TestDataStreams(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	got := make(chan received, 4)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxFor(t, 3*time.Minute)
	must(b.RegisterTextStreamHandler("all", func(r *livekit.TextStreamReader, from string) {
		s, err := r.ReadAll(ctx)
		got <- received{data: []byte(s), from: from, info: r.Info(), err: err}
	}))
	must(b.RegisterTextStreamHandler("chunks", func(r *livekit.TextStreamReader, from string) {
		var sb strings.Builder
		var err error
		for c, e := range r.Chunks(ctx) {
			if e != nil {
				err = e
				break
			}
			sb.WriteString(c)
		}
		got <- received{data: []byte(sb.String()), from: from, info: r.Info(), err: err}
	}))
	must(b.RegisterByteStreamHandler("all", func(r *livekit.ByteStreamReader, from string) {
		d, err := r.ReadAll(ctx)
		got <- received{data: d, from: from, info: r.Info(), err: err}
	}))
	must(b.RegisterByteStreamHandler("reader", func(r *livekit.ByteStreamReader, from string) {
		d, err := io.ReadAll(r)
		got <- received{data: d, from: from, info: r.Info(), err: err}
	}))
	if err := b.RegisterByteStreamHandler("all", func(*livekit.ByteStreamReader, string) {}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("duplicate handler: %v", err)
	}
	lp := a.LocalParticipant()
	for _, n := range []int{0, 1 << 10, 1 << 20, 20 << 20} {
		text := randomText(n)
		for _, topic := range []string{"all", "chunks"} {
			info, err := lp.SendText(ctx, text, livekit.StreamTextOptions{Topic: topic, Attributes: map[string]string{"k": "v"}})
			must(err)
			r := waitRecv(t, got, 2*time.Minute)
			must(r.err)
			sameData(t, "text "+topic, r.data, []byte(text))
			ri := r.info.(livekit.TextStreamInfo)
			if r.from != "alice" || ri.ID != info.ID || ri.Topic != topic || ri.Attributes["k"] != "v" {
				t.Fatalf("text info %+v from %q, sent %+v", ri, r.from, info)
			}
		}
		data := randomBytes(n)
		for _, topic := range []string{"all", "reader"} {
			info, err := lp.SendBytes(ctx, data, livekit.StreamBytesOptions{Topic: topic, Name: "blob", MimeType: "application/x-test"})
			must(err)
			r := waitRecv(t, got, 2*time.Minute)
			must(r.err)
			sameData(t, "bytes "+topic, r.data, data)
			ri := r.info.(livekit.ByteStreamInfo)
			if ri.ID != info.ID || ri.Name != "blob" || ri.MimeType != "application/x-test" {
				t.Fatalf("byte info %+v, sent %+v", ri, info)
			}
		}
	}

	// Incremental writers: pieces arrive in order.
	tw, err := lp.StreamText(ctx, livekit.StreamTextOptions{Topic: "chunks"})
	must(err)
	var want strings.Builder
	for i := range 20 {
		s := randomText(1000 + i*500)
		want.WriteString(s)
		if _, err := tw.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	must(tw.Close())
	if _, err := tw.WriteString("late"); !errors.Is(err, livekit.ErrWriterClosed) {
		t.Fatalf("write after close: %v", err)
	}
	r := waitRecv(t, got, time.Minute)
	must(r.err)
	sameData(t, "text writer", r.data, []byte(want.String()))

	bw, err := lp.StreamBytes(ctx, livekit.StreamBytesOptions{Topic: "reader"})
	must(err)
	var wantB bytes.Buffer
	for i := range 20 {
		d := randomBytes(7000 * (i + 1))
		wantB.Write(d)
		if _, err := bw.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	must(bw.Close())
	r = waitRecv(t, got, time.Minute)
	must(r.err)
	sameData(t, "byte writer", r.data, wantB.Bytes())

	// Topics nobody handles are released; handled ones still work afterwards.
	for range 5 {
		_, err := lp.SendText(ctx, "unhandled", livekit.StreamTextOptions{Topic: "nobody"})
		must(err)
		_, err = lp.SendBytes(ctx, []byte("unhandled"), livekit.StreamBytesOptions{Topic: "nobody"})
		must(err)
	}
	_, err = lp.SendText(ctx, "after", livekit.StreamTextOptions{Topic: "all"})
	must(err)
	if r := waitRecv(t, got, time.Minute); string(r.data) != "after" {
		t.Fatalf("got %q", r.data)
	}
	if n := livekit.StreamHandlesHeld(b); n != 0 {
		t.Fatalf("%d stream handles held after every handler returned", n)
	}
	if n := livekit.StreamHandlesHeld(a); n != 0 {
		t.Fatalf("%d writer handles held after close", n)
	}
}

func TestSendFileWrittenToDisk(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "in.bin")
	data := randomBytes(3<<20 + 17)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, time.Minute)
	got := make(chan received, 1)
	if err := b.RegisterByteStreamHandler("files", func(r *livekit.ByteStreamReader, from string) {
		p, err := r.WriteToFile(ctx, out, "")
		got <- received{data: []byte(p), info: r.Info(), err: err}
	}); err != nil {
		t.Fatal(err)
	}
	info, err := a.LocalParticipant().SendFile(ctx, src, livekit.StreamBytesOptions{Topic: "files", Destinations: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "in.bin" {
		t.Fatalf("sent info %+v", info)
	}
	r := waitRecv(t, got, time.Minute)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if filepath.Dir(string(r.data)) != out {
		t.Fatalf("written to %s, want in %s", r.data, out)
	}
	disk, err := os.ReadFile(string(r.data))
	if err != nil {
		t.Fatal(err)
	}
	sameData(t, "file", disk, data)
}

// Readers in flight when the receiving room closes end with ErrClosed instead of hanging.
func TestStreamReadersEndWhenRoomCloses(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	ctx := ctxFor(t, time.Minute)
	started := make(chan struct{}, 3)
	ended := make(chan error, 3)
	b.RegisterTextStreamHandler("chunks", func(r *livekit.TextStreamReader, from string) {
		for _, err := range r.Chunks(ctx) {
			if err != nil {
				ended <- err
				return
			}
			started <- struct{}{}
		}
		ended <- nil
	})
	b.RegisterTextStreamHandler("all", func(r *livekit.TextStreamReader, from string) {
		started <- struct{}{}
		_, err := r.ReadAll(ctx)
		ended <- err
	})
	b.RegisterByteStreamHandler("read", func(r *livekit.ByteStreamReader, from string) {
		buf := make([]byte, 10)
		_, err := io.ReadFull(r, buf)
		if err == nil {
			started <- struct{}{}
			_, err = io.ReadAll(r)
		}
		ended <- err
	})
	lp := a.LocalParticipant()
	w1, err := lp.StreamText(ctx, livekit.StreamTextOptions{Topic: "chunks"})
	if err != nil {
		t.Fatal(err)
	}
	w1.WriteString("first piece")
	w2, err := lp.StreamText(ctx, livekit.StreamTextOptions{Topic: "all"})
	if err != nil {
		t.Fatal(err)
	}
	w2.WriteString("first piece")
	w3, err := lp.StreamBytes(ctx, livekit.StreamBytesOptions{Topic: "read"})
	if err != nil {
		t.Fatal(err)
	}
	w3.Write(make([]byte, 100))
	for range 3 {
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			t.Fatal("streams did not start")
		}
	}
	b.Close()
	for range 3 {
		select {
		case err := <-ended:
			if !errors.Is(err, livekit.ErrClosed) {
				t.Errorf("reader ended with %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a reader did not end at close")
		}
	}
	// Writers left open are dropped when their room closes.
	if n := livekit.StreamHandlesHeld(a); n != 3 {
		t.Fatalf("%d writer handles held, want 3", n)
	}
	a.Close()
	if n := livekit.StreamHandlesHeld(a); n != 0 {
		t.Fatalf("%d writer handles held after close", n)
	}
	if _, err := w1.WriteString("late"); !errors.Is(err, livekit.ErrClosed) {
		t.Fatalf("write after room close: %v", err)
	}
}

// A receiver's WithMaxDataStreamBytes ends larger streams with an error; its handler is
// given as a connect option.
func TestMaxDataStreamBytes(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	ctx := ctxFor(t, 60*time.Second)
	got := make(chan error, 2)
	b, err := livekit.Connect(ctx, env.Server.URL(), mint(t, name, "small"), livekit.WithMaxDataStreamBytes(1000),
		livekit.WithByteStreamHandler("x", func(r *livekit.ByteStreamReader, _ string) {
			_, err := r.ReadAll(ctx)
			got <- err
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.RegisterByteStreamHandler("x", func(*livekit.ByteStreamReader, string) {}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("registering over a connect option's handler: %v", err)
	}
	a, err := livekit.Connect(ctx, env.Server.URL(), mint(t, name, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for a.RemoteParticipant("small") == nil {
		time.Sleep(10 * time.Millisecond)
	}
	for _, n := range []int{500, 5000} {
		if _, err := a.LocalParticipant().SendBytes(ctx, randomBytes(n), livekit.StreamBytesOptions{Topic: "x"}); err != nil {
			t.Fatal(err)
		}
		err := waitErr(t, got)
		var se *livekit.StreamError
		if n == 500 && err != nil || n == 5000 && !errors.As(err, &se) {
			t.Fatalf("%d bytes: %v", n, err)
		}
		t.Logf("%d bytes: %v", n, err)
	}
}

func waitErr(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no stream ended")
	}
	return nil
}
