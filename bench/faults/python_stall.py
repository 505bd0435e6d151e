# The stall fault of livekit/faults_test.go, through LiveKit's Python SDK (livekit-rtc 1.2.0: the
# same livekit-ffi 0.13.2 engine), to tell the engine's behaviour from this SDK's.
# Usage (inside the namespace, server running): python_stall.py URL KEY SECRET SERVER_PID STALL_S
import asyncio, json, os, signal, sys, time
from livekit import rtc, api

URL, KEY, SECRET, PID, STALL = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])


def tok(ident, room):
    return (api.AccessToken(KEY, SECRET).with_identity(ident)
            .with_grants(api.VideoGrants(room_join=True, room=room, can_publish_data=True)).to_jwt())


async def main():
    room = f"stall-{time.time_ns()}"
    a, b = rtc.Room(), rtc.Room()
    events = []
    got = set()
    t0 = time.monotonic()
    for name, r in (("a", a), ("b", b)):
        for ev in ("reconnecting", "reconnected", "disconnected", "participant_disconnected"):
            r.on(ev, lambda *args, _n=name, _e=ev: events.append((round(time.monotonic() - t0, 2), _n, _e)))
    b.on("data_received", lambda p: got.add(int.from_bytes(p.data, "big")) if p.topic == "seq" else None)
    await b.connect(URL, tok("b", room))
    await a.connect(URL, tok("a", room))
    await asyncio.sleep(1.0)
    sent = 0
    stop = asyncio.Event()

    async def publisher():
        nonlocal sent
        seq = 0
        while not stop.is_set():
            await asyncio.sleep(0.1)
            try:
                await asyncio.wait_for(a.local_participant.publish_data(seq.to_bytes(4, "big"), reliable=True, topic="seq"), 60)
                sent = seq + 1
            except Exception as e:  # the engine's error, counted as not sent
                events.append((round(time.monotonic() - t0, 2), "a", f"publish error {e}"))
            seq += 1

    task = asyncio.create_task(publisher())
    await asyncio.sleep(1.0)
    os.kill(PID, signal.SIGSTOP)
    await asyncio.sleep(STALL)
    os.kill(PID, signal.SIGCONT)
    await asyncio.sleep(8.0)
    stop.set()
    await task
    await asyncio.sleep(2.0)
    lost = [i for i in range(sent) if i not in got]
    print(json.dumps({"peer": "python-rtc", "stall_s": STALL, "sent": sent, "received": len(got & set(range(sent))),
                      "lost": len(lost), "events": events}), flush=True)
    await a.disconnect()
    await b.disconnect()

asyncio.run(main())
