#pragma once
// The admin API a test or the chaos harness uses to script a fake node at run time (lag, pause,
// per-method errors and delays, syncing, health, kill/restart, silence, 1xx interim responses).
// It listens on its own loopback port and is never affected by what it does to the RPC side. The
// EL node also reorgs its chain on request (POST /reorg).

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "net/http_server.hpp"

namespace vixy::fakenodes {

class FakeNode;

// Answers one admin request: GET /state, POST /lag /pause /resume /method /method/clear /syncing
// /healthy /drop-subscriptions /close-connections /kill /restart /silent /reorg /interim.
boost::asio::awaitable<void> serve_admin(std::shared_ptr<FakeNode> node, net::HttpConnection& connection,
                                         net::Request& request);

}  // namespace vixy::fakenodes
