package engine

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/redact"
	"github.com/livekit-ffi-go/sdk/internal/wire"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

type logItem struct {
	level slog.Level
	rec   *pb.LogRecord
}

// Field numbers of the log messages, read directly off the wire (see routeLogs).
var (
	ffiEventLogsField    = wire.Number(&pb.FfiEvent{}, "logs")
	logBatchRecordsField = wire.Number(&pb.LogBatch{}, "records")
	logRecordLevelField  = wire.Number(&pb.LogRecord{}, "level")
)

// logBatchBytes returns the serialized LogBatch if raw is an FfiEvent carrying logs.
func logBatchBytes(raw []byte) ([]byte, bool) {
	num, batch, ok := wire.Envelope(raw)
	return batch, ok && num == ffiEventLogsField
}

// routeLogs filters a LogBatch by level before decoding anything: the library sends every
// record down to TRACE, hundreds per connect, and almost all of them are dropped here.
func (c *Client) routeLogs(batch []byte) {
	var keep []logItem
	for len(batch) > 0 {
		num, typ, n := protowire.ConsumeTag(batch)
		if n < 0 {
			return
		}
		batch = batch[n:]
		if num != logBatchRecordsField || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, batch); n < 0 {
				return
			}
			batch = batch[n:]
			continue
		}
		rec, n := protowire.ConsumeBytes(batch)
		if n < 0 {
			return
		}
		batch = batch[n:]
		lvl := slogLevel(recordLevel(rec))
		if lvl < c.level {
			continue
		}
		var r pb.LogRecord
		if proto.Unmarshal(rec, &r) != nil {
			continue
		}
		keep = append(keep, logItem{level: lvl, rec: &r})
	}
	if len(keep) > 0 {
		c.logs.Push(keep)
	}
}

// recordLevel reads LogRecord.level without decoding the rest (TRACE if absent).
func recordLevel(rec []byte) pb.LogLevel {
	if v, ok := wire.Varint(rec, logRecordLevelField); ok {
		return pb.LogLevel(v)
	}
	return pb.LogLevel_LOG_TRACE
}

func slogLevel(l pb.LogLevel) slog.Level {
	switch l {
	case pb.LogLevel_LOG_ERROR:
		return slog.LevelError
	case pb.LogLevel_LOG_WARN:
		return slog.LevelWarn
	case pb.LogLevel_LOG_INFO:
		return slog.LevelInfo
	case pb.LogLevel_LOG_DEBUG:
		return slog.LevelDebug
	default:
		return LevelTrace
	}
}

// emitLogs runs on the logging goroutine, so a slow slog.Handler delays only logs.
func (c *Client) emitLogs(items []logItem) {
	ctx := context.Background()
	for _, it := range items {
		r := it.rec
		attrs := []slog.Attr{slog.String("target", r.GetTarget())}
		if r.File != nil {
			attrs = append(attrs, slog.String("file", r.GetFile()), slog.Uint64("line", uint64(r.GetLine())))
		}
		c.log.LogAttrs(ctx, it.level, redactJWTs(r.GetMessage()), attrs...)
	}
}

// redactJWTs keeps tokens out of log records: only a short prefix and the length remain.
func redactJWTs(s string) string {
	return redact.JWTs(s, func(tok string) string {
		return fmt.Sprintf("%s…(token, %d bytes)", tok[:8], len(tok))
	})
}
