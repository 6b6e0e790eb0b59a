#include "support/ws_fleet.hpp"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "net/ws_client.hpp"

namespace vixy::testing {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

struct Client {
  explicit Client(asio::io_context& io_) : io(io_), ws(io_.get_executor()) {}
  asio::io_context& io;
  net::WsClient ws;
  std::deque<std::string> outbox;
  std::vector<std::string> inbox;
  bool open = false;
  bool writing = false;
  bool closed = false;

  void read() {
    asio::co_spawn(io, ws.read(), [this](std::exception_ptr, std::pair<error_code, std::string> got) {
      if (got.first) {
        closed = true;
        return;
      }
      inbox.push_back(std::move(got.second));
      read();
    });
  }
  void write() {
    if (writing || outbox.empty() || !open || closed) return;
    writing = true;
    // The front of the deque stays put (and alive) until this write's handler pops it.
    asio::co_spawn(io, ws.write(outbox.front()), [this](std::exception_ptr, error_code ec) {
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
  for (auto& c : impl_->clients) c->ws.abort();
  impl_->io.restart();
  impl_->io.run_for(std::chrono::seconds(2));
}

std::size_t WsFleet::size() const { return impl_->clients.size(); }

std::size_t WsFleet::connect_all(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout,
                                std::size_t batch) {
  auto url = std::make_shared<net::UpstreamUrl>();
  url->host = "127.0.0.1";
  url->port = std::to_string(port);
  url->path = target;
  // Counters (and the URL) outlive this call: a handler may still run in a later run_until after
  // a timeout.
  auto done = std::make_shared<std::size_t>(0);
  auto ok = std::make_shared<std::size_t>(0);
  auto deadline = Clock::now() + timeout;
  const std::size_t total = impl_->clients.size();
  for (std::size_t first = 0; first < total; first += batch) {
    std::size_t last = std::min(total, first + batch);
    auto options = std::make_shared<net::WsClientOptions>();
    options->connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    options->idle_timeout = std::chrono::milliseconds(0);
    options->max_message_size = 16 * 1024 * 1024;
    for (std::size_t i = first; i < last; ++i) {
      Client* client = impl_->clients[i].get();
      asio::co_spawn(impl_->io, client->ws.connect(*url, *options),
                     [client, done, ok, url, options](std::exception_ptr, error_code ec) {
                       ++*done;
                       if (ec) {
                         client->closed = true;
                         return;
                       }
                       client->open = true;
                       ++*ok;
                       client->read();
                       client->write();
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
