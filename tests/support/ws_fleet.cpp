#include "support/ws_fleet.hpp"

#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace vixy::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

struct Client {
  explicit Client(asio::io_context& io) : ws(io) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> outbox;
  std::vector<std::string> inbox;
  std::string host;
  bool open = false;
  bool writing = false;
  bool closed = false;

  void read() {
    ws.async_read(buffer, [this](error_code ec, std::size_t) {
      if (ec) {
        closed = true;
        return;
      }
      inbox.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      read();
    });
  }
  void write() {
    if (writing || outbox.empty() || !open || closed) return;
    writing = true;
    ws.text(true);
    ws.async_write(asio::buffer(outbox.front()), [this](error_code ec, std::size_t) {
      writing = false;
      outbox.pop_front();
      if (ec) {
        closed = true;
        return;
      }
      write();
    });
  }
};

}  // namespace

struct WsFleet::Impl {
  asio::io_context io;
  std::vector<std::unique_ptr<Client>> clients;
};

WsFleet::WsFleet(std::size_t size) : impl_(std::make_unique<Impl>()) {
  for (std::size_t i = 0; i < size; ++i) impl_->clients.push_back(std::make_unique<Client>(impl_->io));
}

WsFleet::~WsFleet() {
  // Close every socket and let the handlers finish before the clients they refer to go away.
  for (auto& c : impl_->clients) {
    error_code ignored;
    beast::get_lowest_layer(c->ws).socket().close(ignored);
  }
  impl_->io.restart();
  impl_->io.run_for(std::chrono::seconds(2));
}

std::size_t WsFleet::size() const { return impl_->clients.size(); }

std::size_t WsFleet::connect_all(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout,
                                std::size_t batch) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  // Counters outlive this call: a handler may still run in a later run_until after a timeout.
  auto done = std::make_shared<std::size_t>(0);
  auto ok = std::make_shared<std::size_t>(0);
  auto deadline = Clock::now() + timeout;
  const std::size_t total = impl_->clients.size();
  for (std::size_t first = 0; first < total; first += batch) {
    std::size_t last = std::min(total, first + batch);
    for (std::size_t i = first; i < last; ++i) {
      Client* client = impl_->clients[i].get();
      client->host = "127.0.0.1:" + std::to_string(port);
      beast::get_lowest_layer(client->ws).expires_at(deadline);
      beast::get_lowest_layer(client->ws).async_connect(endpoint, [client, target, done, ok](error_code ec) {
        if (ec) {
          client->closed = true;
          ++*done;
          return;
        }
        client->ws.async_handshake(client->host, target, [client, done, ok](error_code hec) {
          ++*done;
          beast::get_lowest_layer(client->ws).expires_never();
          if (hec) {
            client->closed = true;
            return;
          }
          client->open = true;
          ++*ok;
          client->read();
          client->write();
        });
      });
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!run_until([&] { return *done == last; }, left + std::chrono::seconds(1))) break;
  }
  return *ok;
}

void WsFleet::send(std::size_t i, std::string text) {
  Client& c = *impl_->clients.at(i);
  c.outbox.push_back(std::move(text));
  c.write();
}

bool WsFleet::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    impl_->io.restart();
    // Handlers run in slices, so that `done` is not re-evaluated after every single message.
    impl_->io.run_for(std::chrono::milliseconds(20));
  }
  return true;
}

const std::vector<std::string>& WsFleet::received(std::size_t i) const { return impl_->clients.at(i)->inbox; }

std::size_t WsFleet::closed_count() const {
  std::size_t n = 0;
  for (const auto& c : impl_->clients) n += c->closed ? 1 : 0;
  return n;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace vixy::testing
