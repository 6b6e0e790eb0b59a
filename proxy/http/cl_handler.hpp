#pragma once
// ANY /cl/*: beacon REST to the first healthy CL node, method, path, query, headers and body as
// sent, with the answer streamed back (event streams included).

#include "server/context.hpp"
#include "server/http_server.hpp"

namespace vixy::http {

// `suffix` is the part of the target after "/cl" (path and query), e.g. "/eth/v1/events?topics=head".
asio::awaitable<void> handle_cl(server::ProxyContext& context, server::HttpConnection& connection,
                                server::Request& request, std::string_view suffix);

}  // namespace vixy::http
