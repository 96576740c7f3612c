"""Contract of the web shutdown bound with Faust's aiohttp driver (faust-streaming 0.15.3)."""

from __future__ import annotations

import asyncio

import faust
from aiohttp import web as aiohttp_web
from faust.web.drivers import aiohttp as faust_aiohttp

from logmonitor.engine.web_shutdown import bound_request_shutdown
from tests.fixtures.ports import free_port
from tests.unit.engine.signatures import calls

Web = faust_aiohttp.Web


def test_the_driver_makes_its_runner_without_a_shutdown_timeout_and_uses_it_to_start_and_stop() -> None:
    assert calls(Web.__init__, "self._runner: AppRunner = AppRunner(self.web_app, access_log=None)")
    assert calls(Web.start_server, "await self._runner.setup()")
    assert calls(Web.stop_server, "await self._runner.cleanup()")


async def test_a_request_in_flight_holds_the_stop_no_longer_than_the_bound() -> None:
    port = free_port()
    app = faust.App("web-shutdown-contract", web_port=port, web_bind="127.0.0.1", web_host="127.0.0.1")
    web = app.web
    bodies_read = asyncio.Event()

    async def read_body(request: aiohttp_web.Request) -> aiohttp_web.Response:
        bodies_read.set()
        await request.read()  # the client never sends the rest
        return aiohttp_web.Response()

    web.web_app.router.add_post("/slow", read_body)
    bound_request_shutdown(web, 0.05)
    await web.start_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    await asyncio.wait_for(bodies_read.wait(), 5)
    # aiohttp's own bound is 60 s: a stop that returns at all within 20 s was bounded by the hook
    await asyncio.wait_for(web.stop_server(), 20)
    assert await asyncio.wait_for(reader.read(), 5) == b"", "the stalled request was closed"
    writer.close()
