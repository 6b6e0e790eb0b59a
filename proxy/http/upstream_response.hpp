#pragma once
// Reading a node's answer the same way for relayed requests and health checks: interim (1xx)
// answers before the final one are skipped (a bounded number of them), a protocol switch nobody
// asked for fails the exchange, and a connection is kept only when nothing of the node's is left
// unread on it, so no byte of one exchange can become part of the next one's answer.

#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/system/error_code.hpp>

#include "http/upstream_pool.hpp"
#include "net/awaitable.hpp"

namespace vixy::http {

// Interim answers accepted before the final one (RFC 9110 allows any number; real servers send one
// or two): past it the node is misbehaving, not slow.
constexpr int kMaxInterimResponses = 8;
// The largest response header vixy reads from a node (each interim answer's header too).
constexpr std::uint32_t kMaxResponseHeaderBytes = 16 * 1024;

enum class ResponseError {
  switched_protocols = 1,  // 101: vixy never asks for an upgrade
  too_many_interim,        // more than kMaxInterimResponses 1xx answers
};
const boost::system::error_category& response_error_category();
inline boost::system::error_code make_error_code(ResponseError e) {
  return {static_cast<int>(e), response_error_category()};
}

// How an exchange that got no usable answer failed: `got_some` says whether any response byte came.
UpstreamFailure classify_failure(const beast::error_code& error, bool got_some);

// Reads the header of the node's final answer. `parser` is (re)made by `make` for each answer
// read, so it holds the final one afterwards. `got_some` is set once any response byte came.
template <class Stream, class Parser, class Make>
asio::awaitable<beast::error_code> read_final_header(Stream& stream, beast::flat_buffer& buffer,
                                                     std::optional<Parser>& parser, const Make& make, bool& got_some) {
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->header_limit(kMaxResponseHeaderBytes);
    make(*parser);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, *parser, use_tuple);
    (void)n;
    got_some = got_some || parser->got_some();
    if (ec) co_return ec;
    unsigned status = parser->get().result_int();
    if (status / 100 != 1) co_return beast::error_code{};
    if (status == 101) co_return make_error_code(ResponseError::switched_protocols);
    if (interim + 1 >= kMaxInterimResponses) co_return make_error_code(ResponseError::too_many_interim);
  }
}

// True when the answer leaves its connection fit for the next request: it was read to its end,
// that end was known without waiting for the node to close, and the node keeps the connection
// open. (UpstreamPool::release checks that nothing beyond the answer has arrived.)
template <class Parser>
bool answer_allows_reuse(const Parser& parser) {
  return parser.is_done() && !parser.need_eof() && parser.keep_alive();
}

}  // namespace vixy::http
