// Package mediaprobe measures media end to end between two participants of one room, through
// package livekit's public API only.
//
// It has two layers. The markers make a stream measurable on its own: ToneBursts puts 1 kHz
// tone bursts (100 ms every 500 ms, silence between) into audio and an OnsetDetector finds
// them again; DrawCounter paints a frame counter into a picture as 24 black and white blocks
// (20 bits of counter, 4 of check) and ReadCounter reads it back from a frame of any size.
// AudioReceiver and VideoReceiver keep what a reader saw (onset times, counters and their
// arrival times), SendAudio and SendVideo capture on a clock and log what was sent when
// (SendLog), and MatchOnsets pairs sent and heard onsets. Anything that lines up capture and
// arrival on one clock (latency, A/V sync) builds on these.
//
// A Session is the whole probe between two joined rooms: A publishes a tone track and a
// counter track, B reads both, then A sends data packets that B echoes and calls an RPC
// method that B registered. cmd/tokencheck --media runs one.
package mediaprobe
