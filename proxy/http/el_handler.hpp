#pragma once
// POST /el: JSON-RPC (single or batch) to the best healthy EL node.

#include "server/context.hpp"
#include "server/http_server.hpp"

namespace vixy::http {

asio::awaitable<void> handle_el(server::ProxyContext& context, server::HttpConnection& connection,
                                server::Request& request);

}  // namespace vixy::http
