# CPU seconds per minute of Python livekit-rtc 1.2.0 for one published plus one received
# 48 kHz mono stream in one process: the counterpart of `bench-audio --cpu-for`. Run it inside
# the namespace against the anchors' server (bench/audio/run.sh does). DURATION (s) env, 60.
import asyncio, json, math, os, resource, time
import numpy as np
from livekit import rtc, api
KEY, SECRET, URL = 'devkey', 'secretsecretsecretsecretsecretsecret', 'ws://127.0.0.1:7880'
SR, N = 48000, 480
def tok(ident, room):
    return (api.AccessToken(KEY, SECRET).with_identity(ident)
            .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)).to_jwt())
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
async def main():
    dur = float(os.environ.get('DURATION', '60'))
    room = f'cpu-{time.time_ns()}'
    a, b = rtc.Room(), rtc.Room()
    await a.connect(URL, tok('A', room)); await b.connect(URL, tok('B', room))
    src = rtc.AudioSource(SR, 1, queue_size_ms=50)
    track = rtc.LocalAudioTrack.create_audio_track('tone', src)
    sub = asyncio.get_running_loop().create_future()
    @b.on('track_subscribed')
    def _(t, pub, p):
        if not sub.done(): sub.set_result(t)
    await a.local_participant.publish_track(track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
    rt = await asyncio.wait_for(sub, 10)
    stream = rtc.AudioStream(rt, sample_rate=SR, num_channels=1)
    got = 0
    async def consumer():
        nonlocal got
        async for ev in stream:
            got += 1
    cons = asyncio.ensure_future(consumer())
    t = np.arange(SR) / SR
    tone = (12000 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
    await asyncio.sleep(1)
    c0, t0 = cpu(), time.perf_counter()
    i = 0
    while time.perf_counter() - t0 < dur:
        j = i % 100
        await src.capture_frame(rtc.AudioFrame(tone[j*N:(j+1)*N].tobytes(), SR, 1, N))
        i += 1
        d = t0 + i * 0.01 - time.perf_counter()
        if d > 0: await asyncio.sleep(d)
    c1, wall = cpu(), time.perf_counter() - t0
    cons.cancel()
    await stream.aclose(); await a.disconnect(); await b.disconnect()
    print(json.dumps({'peer': 'python-rtc', 'cpu_seconds_per_minute': round((c1 - c0) / (wall / 60), 2), 'wall_s': round(wall), 'frames_received': got}), flush=True)
asyncio.run(main())
