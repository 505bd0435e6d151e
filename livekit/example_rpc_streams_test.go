package livekit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

// Answer calls of a method, and call it on another participant.
func ExampleLocalParticipant_RegisterRPCMethod() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	lp := room.LocalParticipant()
	err = lp.RegisterRPCMethod("upper", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		if inv.Payload == "" {
			return "", &livekit.RPCError{Code: 2000, Message: "empty payload"} // reaches the caller as is
		}
		return strings.ToUpper(inv.Payload), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := lp.PerformRPC(ctx, livekit.RPCParams{Destination: "bob", Method: "upper", Payload: "hi", ResponseTimeout: 5 * time.Second})
	var rpcErr *livekit.RPCError
	switch {
	case errors.As(err, &rpcErr) && rpcErr.Code == livekit.RPCUnsupportedMethod:
		fmt.Println("bob does not answer upper")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(resp)
	}
}

// Receive text streams of a topic as they arrive, and send one.
func ExampleRoom_RegisterTextStreamHandler() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	err = room.RegisterTextStreamHandler("chat", func(r *livekit.TextStreamReader, from string) {
		// Runs on its own goroutine; the reader is valid until this returns.
		for chunk, err := range r.Chunks(ctx) {
			if err != nil {
				log.Printf("stream from %s failed: %v", from, err)
				return
			}
			fmt.Print(chunk)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	w, err := room.LocalParticipant().StreamText(ctx, livekit.StreamTextOptions{Topic: "chat"})
	if err != nil {
		log.Fatal(err)
	}
	for _, word := range []string{"streamed ", "word ", "by ", "word"} {
		if _, err := w.WriteString(word); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}
