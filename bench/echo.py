"""The transport's limit: a bare ``websockets`` echo server, one process like one okno worker.

Run as ``python -m bench.echo PORT``; prints ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(connection: ServerConnection) -> None:
    async for frame in connection:
        await connection.send(frame)


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, max_size=1024 * 1024, backlog=4096):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn uses uvloop where it exists; so do we
        asyncio.run(main(int(sys.argv[1])))
    else:
        uvloop.run(main(int(sys.argv[1])))
