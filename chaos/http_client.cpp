#include "chaos/http_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <deque>

#include "text/ascii.hpp"
#include "net/awaitable.hpp"
#include "net/upstream_url.hpp"
#include "net/ws_client.hpp"

namespace vixy::chaos {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Runs handlers until `done()` holds or the deadline passes; false on timeout.
template <class Predicate>
bool run_until(asio::io_context& io, Predicate done, Clock::time_point deadline) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    io.restart();
    if (io.run_one_until(deadline) == 0 && !done() && io.stopped() && Clock::now() < deadline) {
      // Nothing left to run and the condition can no longer change.
      return false;
    }
  }
  return true;
}

// Resolves numeric addresses without a lookup; names go through the resolver (bounded by the caller).
asio::awaitable<std::pair<error_code, std::vector<tcp::endpoint>>> resolve(const std::string& host,
                                                                           std::uint16_t port) {
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
    co_return std::make_pair(error_code{}, endpoints);
  }
  tcp::resolver resolver(co_await asio::this_coro::executor);
  std::string service = std::to_string(port);
  auto [resolve_ec, results] = co_await resolver.async_resolve(host, service, use_tuple);
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  co_return std::make_pair(resolve_ec, endpoints);
}

asio::awaitable<error_code> connect_stream(beast::tcp_stream& stream, const std::string& host,
                                           std::uint16_t port) {
  auto [ec, endpoints] = co_await resolve(host, port);
  if (ec) co_return ec;
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
  (void)endpoint;
  co_return connect_ec;
}

asio::awaitable<void> exchange(beast::tcp_stream& stream, const std::string& host, std::uint16_t port,
                               http::request<http::string_body>& request, HttpResult& result) {
  result.ec = co_await connect_stream(stream, host, port);
  if (result.ec) co_return;
  auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
  (void)written;
  if (write_ec) {
    result.ec = write_ec;
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(request.method() == http::verb::head);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  (void)read;
  if (read_ec) {
    result.ec = read_ec;
    co_return;
  }
  auto response = parser.release();
  result.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name = text::lowercase(field.name_string());
    std::string value(field.value());
    auto [it, inserted] = result.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  result.body = std::move(response.body());
}

std::string host_header(const std::string& host, std::uint16_t port) {
  return host + ":" + std::to_string(port);
}

}  // namespace

HttpResult http_request(const std::string& host, std::uint16_t port, http::verb verb, std::string target,
                        std::string body, const HttpHeaders& headers, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  HttpResult result;
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, host_header(host, port));
  request.set(http::field::user_agent, "vixy-chaos");
  request.keep_alive(false);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  if (!request.body().empty() || verb == http::verb::post || verb == http::verb::put)
    request.prepare_payload();

  bool done = false;
  stream.expires_after(timeout);  // one deadline for connect, write and read together
  asio::co_spawn(io, exchange(stream, host, port, request, result), [&](std::exception_ptr) { done = true; });
  if (!run_until(
          io, [&] { return done; }, Clock::now() + timeout + 1s)) {
    // Only a name lookup that ignores the deadline gets here; abandon it.
    result = HttpResult{};
    result.ec = asio::error::timed_out;
  }
  if (result.ec == beast::error::timeout) result.ec = asio::error::timed_out;
  return result;
}

HttpResult post_json(const std::string& host, std::uint16_t port, std::string target, std::string body,
                     std::chrono::milliseconds timeout) {
  return http_request(host, port, http::verb::post, std::move(target), std::move(body),
                      {{"Content-Type", "application/json"}}, timeout);
}

HttpResult get(const std::string& host, std::uint16_t port, std::string target,
               std::chrono::milliseconds timeout) {
  return http_request(host, port, http::verb::get, std::move(target), "", {}, timeout);
}

// ---------------------------------------------------------------------------------------------
// WebSocket client: net::WsClient run synchronously. One read is kept outstanding while any call
// runs the context, so control frames (pongs, close) are processed and messages queue up in order.

struct WsClient::Impl {
  asio::io_context io;
  net::WsClient ws{io.get_executor()};
  // Members, not the caller's locals: a connect abandoned on timeout may still refer to them.
  net::UpstreamUrl url;
  net::WsClientOptions options;
  std::deque<std::string> inbox;
  bool open = false;
  bool reading = false;
  bool closed = false;
  int close_code = 0;
  error_code error;

  void start_read() {
    if (reading || closed || !open) return;
    reading = true;
    asio::co_spawn(io, ws.read(), [this](std::exception_ptr, std::pair<error_code, std::string> got) {
      reading = false;
      if (got.first) {
        closed = true;
        error = got.first;
        close_code = ws.close_code();
        return;
      }
      inbox.push_back(std::move(got.second));
      start_read();
    });
  }

  error_code write(const std::string& text, bool binary, std::chrono::milliseconds timeout);

  // Closes the socket and runs the context until every handler has completed, so none is left
  // referring to a caller's stack.
  void abort() {
    ws.abort();
    closed = true;
    io.restart();
    io.run_for(1s);
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() {
  if (impl_->open && !impl_->closed) impl_->abort();
}

error_code WsClient::connect(const std::string& host, std::uint16_t port, const std::string& target,
                             std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  s.url.host = host;
  s.url.port = std::to_string(port);
  s.url.path = target;  // sent as written: target() adds nothing to a path without a query
  s.options.connect_timeout = timeout;
  s.options.idle_timeout = std::chrono::milliseconds(0);  // tests see exactly the frames they cause
  s.options.max_message_size = 16 * 1024 * 1024;          // Beast's default, what this client always had
  s.options.user_agent = "vixy-chaos";
  auto state = std::make_shared<std::pair<bool, error_code>>(false, error_code{});
  asio::co_spawn(s.io, s.ws.connect(s.url, s.options), [state](std::exception_ptr, error_code ec) {
    state->second = ec;
    state->first = true;
  });
  if (!run_until(
          s.io, [&] { return state->first; }, Clock::now() + timeout + 1s)) {
    s.abort();
    return asio::error::timed_out;
  }
  error_code result = state->second;
  if (result == beast::error::timeout) result = asio::error::timed_out;
  if (result) {
    s.closed = true;
    s.error = result;
    return result;
  }
  s.open = true;
  return {};
}

error_code WsClient::send(const std::string& text, std::chrono::milliseconds timeout) {
  return impl_->write(text, /*binary=*/false, timeout);
}

error_code WsClient::send_binary(const std::string& data, std::chrono::milliseconds timeout) {
  return impl_->write(data, /*binary=*/true, timeout);
}

error_code WsClient::Impl::write(const std::string& text, bool binary, std::chrono::milliseconds timeout) {
  Impl& s = *this;
  if (!s.open || s.closed) return s.error ? s.error : asio::error::not_connected;
  auto state = std::make_shared<std::pair<bool, error_code>>(false, error_code{});
  auto payload = std::make_shared<std::string>(text);
  auto done = [state, payload](std::exception_ptr, error_code ec) {
    state->first = true;
    state->second = ec;
  };
  if (binary) {
    asio::co_spawn(s.io, s.ws.write_binary(*payload), std::move(done));
  } else {
    asio::co_spawn(s.io, s.ws.write(*payload), std::move(done));
  }
  s.start_read();
  if (!run_until(
          s.io, [&] { return state->first; }, Clock::now() + timeout)) {
    s.abort();
    s.error = asio::error::timed_out;
    return asio::error::timed_out;
  }
  return state->second;
}

std::optional<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  s.start_read();
  run_until(
      s.io, [&] { return !s.inbox.empty() || s.closed; }, Clock::now() + timeout);
  if (s.inbox.empty()) return std::nullopt;
  std::string message = std::move(s.inbox.front());
  s.inbox.pop_front();
  return message;
}

bool WsClient::ping(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.open || s.closed) return false;
  std::uint64_t pongs_before = s.ws.pongs();
  auto sent = std::make_shared<bool>(false);
  asio::co_spawn(s.io, s.ws.ping(), [sent](std::exception_ptr, error_code) { *sent = true; });
  s.start_read();
  auto ponged = [&] { return s.ws.pongs() > pongs_before; };
  bool ok = run_until(
      s.io, [&] { return (*sent && ponged()) || s.closed; }, Clock::now() + timeout);
  if (!*sent) {
    s.abort();  // the ping could not even be written: the connection is useless
    return false;
  }
  return ok && ponged();
}

void WsClient::close(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.open || s.closed) return;
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(s.io, s.ws.close(1000), [done](std::exception_ptr, error_code) { *done = true; });
  s.start_read();
  run_until(
      s.io, [&] { return *done && !s.reading; }, Clock::now() + timeout);
  s.abort();
}

bool WsClient::closed() const { return impl_->closed; }
int WsClient::close_code() const { return impl_->close_code; }
error_code WsClient::last_error() const { return impl_->error; }

// ---------------------------------------------------------------------------------------------
// SSE reader: the response body is read incrementally into a fixed buffer and cut into events at
// blank lines.

struct SseReader::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 8192> chunk{};
  std::string text;  // received but not yet a complete event
  std::deque<SseEvent> events;
  bool reading = false;
  bool closed = false;
  int status = 0;
  std::string content_type;

  void parse_events() {
    for (;;) {
      // Normalise line ends so that both "\n\n" and "\r\n\r\n" end an event.
      std::size_t cr;
      while ((cr = text.find('\r')) != std::string::npos) {
        if (cr + 1 < text.size() && text[cr + 1] == '\n') {
          text.erase(cr, 1);
        } else {
          text[cr] = '\n';
        }
      }
      auto end = text.find("\n\n");
      if (end == std::string::npos) return;
      std::string block = text.substr(0, end);
      text.erase(0, end + 2);
      SseEvent event;
      bool any = false;
      std::size_t start = 0;
      while (start <= block.size()) {
        auto newline = block.find('\n', start);
        std::string line =
            block.substr(start, newline == std::string::npos ? std::string::npos : newline - start);
        start = newline == std::string::npos ? block.size() + 1 : newline + 1;
        if (line.empty() || line[0] == ':') continue;
        auto colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "event") {
          event.event = value;
          any = true;
        } else if (field == "data") {
          if (!event.data.empty()) event.data += '\n';
          event.data += value;
          any = true;
        } else if (field == "id") {
          event.id = value;
        }
      }
      if (!any) continue;
      if (event.event.empty()) event.event = "message";
      events.push_back(std::move(event));
    }
  }

  void start_read() {
    if (reading || closed) return;
    reading = true;
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    http::async_read_some(stream, buffer, parser, [this](error_code ec, std::size_t) {
      reading = false;
      std::size_t received = chunk.size() - parser.get().body().size;
      text.append(chunk.data(), received);
      parse_events();
      if (ec == http::error::need_buffer) ec = {};
      if (ec || parser.is_done()) {
        closed = true;
        return;
      }
      start_read();
    });
  }
};

SseReader::SseReader() : impl_(std::make_unique<Impl>()) {}
SseReader::~SseReader() = default;

error_code SseReader::open(const std::string& host, std::uint16_t port, const std::string& target,
                           std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  s.parser.body_limit(boost::none);
  bool done = false;
  error_code result;
  s.stream.expires_after(timeout);
  auto request_header = [](Impl& impl, std::string h, std::uint16_t p,
                           std::string t) -> asio::awaitable<error_code> {
    error_code ec = co_await connect_stream(impl.stream, h, p);
    if (ec) co_return ec;
    http::request<http::empty_body> request{http::verb::get, t, 11};
    request.set(http::field::host, host_header(h, p));
    request.set(http::field::accept, "text/event-stream");
    request.set(http::field::user_agent, "vixy-chaos");
    auto [write_ec, written] = co_await http::async_write(impl.stream, request, use_tuple);
    (void)written;
    if (write_ec) co_return write_ec;
    auto [read_ec, read] = co_await http::async_read_header(impl.stream, impl.buffer, impl.parser, use_tuple);
    (void)read;
    co_return read_ec;
  };
  asio::co_spawn(s.io, request_header(s, host, port, target), [&](std::exception_ptr, error_code ec) {
    result = ec;
    done = true;
  });
  if (!run_until(
          s.io, [&] { return done; }, Clock::now() + timeout + 1s)) {
    error_code ignored;
    s.stream.socket().close(ignored);
    s.io.restart();
    s.io.run_for(1s);
    result = asio::error::timed_out;
  }
  s.stream.expires_never();
  if (result == beast::error::timeout) result = asio::error::timed_out;
  if (result) {
    s.closed = true;
    return result;
  }
  s.status = static_cast<int>(s.parser.get().result_int());
  s.content_type = std::string(s.parser.get()[http::field::content_type]);
  if (s.parser.is_done()) s.closed = true;  // an error answer with its whole body already read
  return {};
}

int SseReader::status() const { return impl_->status; }
std::string SseReader::content_type() const { return impl_->content_type; }
bool SseReader::closed() const { return impl_->closed && impl_->events.empty(); }

std::optional<SseEvent> SseReader::next(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  s.start_read();
  run_until(
      s.io, [&] { return !s.events.empty() || s.closed; }, Clock::now() + timeout);
  if (s.events.empty()) return std::nullopt;
  SseEvent event = std::move(s.events.front());
  s.events.pop_front();
  return event;
}

}  // namespace vixy::chaos
