// GET /cl/eth/v1/events for topics a shared feed can serve (http/event_feed.hpp): the client joins
// the feed of the first routable node that has one running or can start one, and gets its events
// from the moment it joined.
#include <array>
#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/cl_handler.hpp"
#include "http/cl_target.hpp"
#include "http/retry_policy.hpp"
#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::http {
namespace {

constexpr std::string_view kChunkEnd = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::string chunk_size_line(std::size_t size) {
  char digits[2 * sizeof(std::size_t) + 2];
  int n = std::snprintf(digits, sizeof digits, "%zx\r\n", size);
  return std::string(digits, static_cast<std::size_t>(n));
}

}  // namespace

asio::awaitable<void> ClHandler::serve_events(net::HttpConnection& connection, const net::Request& request,
                                              const std::string& topics, const std::vector<std::size_t>& nodes,
                                              Clock::time_point started) {
  const auto deadline = started + std::chrono::milliseconds(settings_.proxy_timeout_ms);
  const auto executor = connection.stream().get_executor();
  const std::string suffix = "/eth/v1/events?topics=" + topics;
  bool timed_out = false;
  const std::size_t allowed = nodes_to_try(nodes.size(), settings_.max_retries);
  for (std::size_t i = 0; i < allowed; ++i) {
    const std::size_t node = nodes[i];
    auto target = cl_upstream_target(pools_[node].requests.url(), suffix);
    if (!target) continue;
    auto feed = feeds_.join(executor, node, topics, *target, deadline);
    FeedListener listener(executor);
    feed->add(listener);
    struct Leave {
      EventFeed& feed;
      FeedListener& listener;
      ~Leave() { feed.remove(listener); }
    } leave{*feed, listener};
    while (feed->state() == EventFeed::State::connecting) co_await listener.wake.async_wait(use_tuple);

    if (feed->state() == EventFeed::State::answered) {
      net::Response response{static_cast<bhttp::status>(feed->status()), 11};
      for (const auto& field : feed->fields()) response.insert(field.name_string(), field.value());
      response.body() = feed->body();
      co_await connection.respond(std::move(response));
      co_return;
    }
    if (feed->state() != EventFeed::State::live) {
      node_metrics_[node].upstream_errors.inc();
      log::warn("cl upstream failed", {{"node", nodes_[node].name},
                                       {"failure", to_string(feed->failure())},
                                       {"error", feed->error().message()}});
      timed_out = feed->failure() == UpstreamFailure::timeout;
      continue;
    }

    node_metrics_[node].requests.inc();
    auto& stream = connection.stream();
    // Every write to the client, the header's too, is bounded by the write timeout.
    auto written = [&](const beast::error_code& ec) {
      stream.expires_never();
      if (ec == beast::error::timeout) {
        log::warn("cl client too slow: closed", {{"node", nodes_[node].name},
                                                  {"write_timeout_ms", connection.write_timeout().count()}});
      }
      return !ec;
    };
    auto write = [&](const auto& buffers) -> asio::awaitable<bool> {
      stream.expires_after(connection.write_timeout());
      auto [ec, n] = co_await asio::async_write(stream, buffers, use_tuple);
      (void)n;
      co_return written(ec);
    };
    bhttp::response<bhttp::empty_body> header{static_cast<bhttp::status>(feed->status()), 11};
    for (const auto& field : feed->fields()) header.insert(field.name_string(), field.value());
    header.chunked(true);
    header.keep_alive(false);  // the stream ends with the connection
    bhttp::response_serializer<bhttp::empty_body> serializer(header);
    stream.expires_after(connection.write_timeout());
    auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, use_tuple);
    (void)hn;
    bool client_ok = written(hec);
    while (client_ok) {
      while (listener.events.empty() && !listener.overflowed && feed->state() == EventFeed::State::live) {
        co_await listener.wake.async_wait(use_tuple);
      }
      if (listener.overflowed) {
        log::warn("cl client too slow: closed", {{"node", nodes_[node].name},
                                                  {"backlog_bytes", EventFeeds::kMaxListenerBacklog}});
        break;
      }
      if (listener.events.empty()) {
        // The feed ended (its node stopped being routable, or ended the stream): so does this
        // response, cleanly, and the client reconnects through routing.
        co_await write(asio::buffer(kLastChunk));
        break;
      }
      auto event = std::move(listener.events.front());
      listener.events.pop_front();
      listener.queued_bytes -= event->size();
      const std::string size_line = chunk_size_line(event->size());
      const std::array<asio::const_buffer, 3> buffers{asio::buffer(size_line), asio::buffer(*event),
                                                      asio::buffer(kChunkEnd)};
      client_ok = co_await write(buffers);
    }
    connection.responded(false);
    connection.close();
    co_return;
  }
  if (timed_out) {
    co_await answer_error(connection, request, bhttp::status::gateway_timeout,
                          "upstream timeout after " + std::to_string(settings_.proxy_timeout_ms) + " ms", timeout);
  } else {
    co_await answer_error(connection, request, bhttp::status::bad_gateway, "every CL node tried failed",
                          upstream_failed);
  }
}

}  // namespace vixy::http
