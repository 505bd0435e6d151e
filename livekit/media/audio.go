package media

import (
	"fmt"
	"time"
)

// AudioFrame is a block of interleaved signed 16-bit PCM: sample i of channel c is
// Data[i*NumChannels+c].
type AudioFrame struct {
	Data              []int16
	SampleRate        int // Hz
	NumChannels       int
	SamplesPerChannel int
}

// NewAudioFrame returns a silent frame with room for samplesPerChannel samples per channel.
func NewAudioFrame(sampleRate, numChannels, samplesPerChannel int) *AudioFrame {
	n := 0
	if numChannels > 0 && samplesPerChannel > 0 {
		n = numChannels * samplesPerChannel
	}
	return &AudioFrame{
		Data:              make([]int16, n),
		SampleRate:        sampleRate,
		NumChannels:       numChannels,
		SamplesPerChannel: samplesPerChannel,
	}
}

// Duration is how long the frame plays: SamplesPerChannel/SampleRate.
func (f *AudioFrame) Duration() time.Duration {
	if f.SampleRate <= 0 {
		return 0
	}
	return time.Duration(f.SamplesPerChannel) * time.Second / time.Duration(f.SampleRate)
}

// maxAudioSamples keeps byte sizes within the protocol's uint32 fields.
const maxAudioSamples = 1 << 30

// Validate reports whether the frame is well formed: positive rate, channel count and length,
// and exactly NumChannels*SamplesPerChannel samples in Data.
func (f *AudioFrame) Validate() error {
	switch {
	case f == nil:
		return fmt.Errorf("media: nil audio frame")
	case f.SampleRate <= 0 || f.NumChannels <= 0 || f.SamplesPerChannel <= 0:
		return fmt.Errorf("media: audio frame needs positive sample rate, channels and samples (got %d Hz, %d channels, %d samples)",
			f.SampleRate, f.NumChannels, f.SamplesPerChannel)
	case f.NumChannels > 64 || f.SamplesPerChannel > maxAudioSamples/f.NumChannels:
		return fmt.Errorf("media: audio frame too large (%d channels x %d samples)", f.NumChannels, f.SamplesPerChannel)
	case len(f.Data) != f.NumChannels*f.SamplesPerChannel:
		return fmt.Errorf("media: audio frame has %d samples, want %d channels x %d = %d",
			len(f.Data), f.NumChannels, f.SamplesPerChannel, f.NumChannels*f.SamplesPerChannel)
	}
	return nil
}
