#include "chaos/hostile_clients.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <deque>
#include <memory>

#include "chaos/history.hpp"
#include "chaos/hostile_messages.hpp"
#include "net/ws_client.hpp"

namespace vixy::chaos::hostile_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr Ms kConnectTimeout{5000};
constexpr Ms kWriteTimeout{5000};
constexpr Ms kSlowReaderPoke{500};   // a slow reader's small write: it finds out that it was closed
constexpr Ms kReopenDelay{250};
constexpr int kSlowReaderReceiveBuffer = 4096;  // the backlog piles up in the proxy, not in this socket
constexpr std::size_t kMaxPendingFloodConnects = 64;

std::string closed_words(const beast::error_code& ec, const net::WsClient& ws) {
  if (ws.close_code()) return "closed by the proxy (close code " + std::to_string(ws.close_code()) + ")";
  if (ec == beast::error::timeout) return "writes stalled for 5 s (the proxy stopped reading)";
  return "closed by the proxy (" + ec.message() + ")";
}

struct WsConn {
  explicit WsConn(asio::io_context& io) : ws(io.get_executor()) {}
  net::WsClient ws;
  // What connect() refers to until it completes.
  net::UpstreamUrl url;
  net::WsClientOptions options;
  bool open = false;
  SteadyTime opened{};
};

// Opens a WebSocket to /el/ws; `done` gets the connection or an error. A small receive buffer
// (set before the SYN) keeps a backlog in the proxy rather than in this socket; a write timeout
// ends writes the proxy has stopped reading (error beast::error::timeout).
void open_ws(HostileIo& h, int receive_buffer, Ms write_timeout,
             std::function<void(std::shared_ptr<WsConn>, beast::error_code)> done) {
  auto conn = std::make_shared<WsConn>(h.io);
  conn->url.host = "127.0.0.1";
  conn->url.port = std::to_string(h.port);
  conn->url.path = "/el/ws";
  conn->options.connect_timeout = kConnectTimeout;
  conn->options.idle_timeout = Ms(0);
  conn->options.write_timeout = write_timeout;
  conn->options.max_message_size = 64u << 20;
  conn->options.receive_buffer_size = receive_buffer;
  conn->options.user_agent = "vixy-chaos";
  asio::co_spawn(h.io, conn->ws.connect(conn->url, conn->options),
                 [conn, done = std::move(done)](std::exception_ptr, beast::error_code ec) {
                   if (!ec) {
                     conn->open = true;
                     conn->opened = SteadyClock::now();
                   }
                   done(conn, ec);
                 });
}

void close_socket(const std::shared_ptr<WsConn>& conn) { conn->ws.abort(); }

// Subscribes to newHeads many times, then never reads: the proxy's writes to it back up. A small
// request every 500 ms tells it when the proxy has closed the connection (the write fails), and
// it connects again, so the pressure lasts the whole run.
class SlowReader : public std::enable_shared_from_this<SlowReader> {
 public:
  SlowReader(HostileIo& h, int index) : h_(h), index_(index), timer_(h.io) {}

  void connect() {
    if (!h_.active()) return;
    open_ws(h_, kSlowReaderReceiveBuffer, kWriteTimeout, [self = shared_from_this()](std::shared_ptr<WsConn> conn, beast::error_code ec) {
      if (self->h_.finishing) return close_socket(conn);
      if (ec) {
        self->h_.tally(kSlowReaders, "connect failed: " + ec.message());
        close_socket(conn);
        return self->later([self] { self->connect(); }, Ms(1000));
      }
      self->current_ = conn;
      self->h_.tally(kSlowReaders, "connected");
      for (int i = 0; i < self->h_.spec.slow_reader_subscriptions; ++i) {
        self->queue_.push_back(R"({"jsonrpc":"2.0","id":"hostile-slow-)" + std::to_string(self->index_) + "-" +
                               std::to_string(++self->seq_) + R"(","method":"eth_subscribe","params":["newHeads"]})");
      }
      self->pump(conn);
      self->poke(conn);
    });
  }

  void finish() {
    timer_.cancel();
    if (!current_) return;
    h_.tally(kSlowReaders, "still open at the end of the run");
    close_socket(current_);
    current_ = nullptr;
  }

 private:
  void later(std::function<void()> f, Ms delay) {
    timer_.expires_after(delay);
    timer_.async_wait([f = std::move(f)](beast::error_code ec) {
      if (!ec) f();
    });
  }

  void poke(const std::shared_ptr<WsConn>& conn) {
    later([self = shared_from_this(), conn] {
      if (conn != self->current_) return;
      if (self->queue_.size() < 4) {
        self->queue_.push_back(R"({"jsonrpc":"2.0","id":"hostile-slow-)" + std::to_string(self->index_) + "-" +
                               std::to_string(++self->seq_) + R"(","method":"eth_blockNumber"})");
        self->pump(conn);
      }
      self->poke(conn);
    }, kSlowReaderPoke);
  }

  void pump(const std::shared_ptr<WsConn>& conn) {
    if (writing_ || queue_.empty() || conn != current_) return;
    writing_ = true;
    auto text = std::make_shared<std::string>(std::move(queue_.front()));
    queue_.pop_front();
    asio::co_spawn(h_.io, conn->ws.write(*text),
                   [self = shared_from_this(), conn, text](std::exception_ptr, beast::error_code ec) {
                     self->writing_ = false;
                     if (conn != self->current_) return;
                     if (ec) return self->lost(conn, ec);
                     self->pump(conn);
                   });
  }

  void lost(const std::shared_ptr<WsConn>& conn, const beast::error_code& ec) {
    h_.tally(kSlowReaders, closed_words(ec, conn->ws));
    h_.runner.slow_reader_closed(ms_since(conn->opened));
    current_ = nullptr;
    queue_.clear();
    close_socket(conn);
    timer_.cancel();
    later([self = shared_from_this()] { self->connect(); }, Ms(500));
  }

  HostileIo& h_;
  int index_;
  asio::steady_timer timer_;
  std::shared_ptr<WsConn> current_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  std::uint64_t seq_ = 0;
};

// Sends one hostile message at a time over WebSocket, at a rate, and counts what came back.
class HostileWs : public std::enable_shared_from_this<HostileWs> {
 public:
  HostileWs(HostileIo& h, const char* group, Ms every, std::function<std::string(std::uint64_t)> make)
      : h_(h), group_(group), every_(every), make_(std::move(make)), tick_(h.io) {}

  void start() { arm(SteadyClock::now() + every_ / 2); }

  void finish() {
    tick_.cancel();
    if (in_flight_) h_.tally(group_, "ws: no answer by the end of the run");
    in_flight_.reset();
    if (current_) close_socket(current_);
    current_ = nullptr;
  }

 private:
  void arm(SteadyTime at) {
    tick_.expires_at(at);
    tick_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
      if (ec || !self->h_.active()) return;
      self->on_tick();
      auto next = at + self->every_;
      self->arm(std::max(next, SteadyClock::now()));
    });
  }

  void on_tick() {
    if (in_flight_ && SteadyClock::now() - *in_flight_ > kAnswerTimeout) {
      h_.tally(group_, "ws: no answer within " + std::to_string(kAnswerTimeout.count() / 1000) + " s");
      in_flight_.reset();
    }
    if (in_flight_ || connecting_ || writing_) return;
    if (!current_) return connect();
    send(current_);
  }

  void connect() {
    connecting_ = true;
    open_ws(h_, 0, Ms(0), [self = shared_from_this()](std::shared_ptr<WsConn> conn, beast::error_code ec) {
      self->connecting_ = false;
      if (self->h_.finishing) return close_socket(conn);
      if (ec) {
        self->h_.tally(self->group_, "ws: connect failed: " + ec.message());
        return close_socket(conn);
      }
      self->current_ = conn;
      self->read(conn);
      if (self->h_.active()) self->send(conn);
    });
  }

  void send(const std::shared_ptr<WsConn>& conn) {
    auto text = std::make_shared<std::string>(make_(++sent_));
    in_flight_ = SteadyClock::now();
    writing_ = true;
    asio::co_spawn(h_.io, conn->ws.write(*text), [self = shared_from_this(), conn, text](std::exception_ptr, beast::error_code) {
      // A failed write shows up as a failed read, which tells how the connection ended.
      self->writing_ = false;
    });
  }

  void read(const std::shared_ptr<WsConn>& conn) {
    asio::co_spawn(h_.io, conn->ws.read(), [self = shared_from_this(), conn](std::exception_ptr, std::pair<beast::error_code, std::string> got) {
      if (conn != self->current_) return;
      auto& [ec, text] = got;
      if (ec) {
        if (self->in_flight_) self->h_.tally(self->group_, "ws: " + closed_words(ec, conn->ws));
        self->in_flight_.reset();
        self->current_ = nullptr;
        return close_socket(conn);
      }
      nlohmann::json m = parse_bounded(text);
      bool notification = m.is_object() && m.contains("method");
      if (!notification && self->in_flight_) {
        self->h_.tally(self->group_, "ws: " + describe_answer(text));
        self->in_flight_.reset();
      }
      self->read(conn);
    });
  }

  HostileIo& h_;
  const char* group_;
  Ms every_;
  std::function<std::string(std::uint64_t)> make_;
  asio::steady_timer tick_;
  std::shared_ptr<WsConn> current_;
  bool connecting_ = false;
  bool writing_ = false;  // one write at a time on a WebSocket
  std::optional<SteadyTime> in_flight_;
  std::uint64_t sent_ = 0;
};

// A TCP connection that never sends a byte; opened again whenever the proxy closes it.
class IdleConnection : public std::enable_shared_from_this<IdleConnection> {
 public:
  explicit IdleConnection(HostileIo& h) : h_(h), retry_(h.io) {}

  void open() {
    if (!h_.active()) return;
    auto stream = std::make_shared<beast::tcp_stream>(h_.io);
    current_ = stream;
    stream->expires_after(kConnectTimeout);
    stream->async_connect(h_.endpoint(), [self = shared_from_this(), stream](beast::error_code ec) {
      if (stream != self->current_) return;
      stream->expires_never();
      if (ec) {
        self->h_.tally(kIdle, "connect failed: " + ec.message());
        self->current_ = nullptr;
        return self->reopen(Ms(1000));
      }
      self->h_.tally(kIdle, "opened");
      self->connected_ = true;
      self->read(stream);
    });
  }

  void finish() {
    retry_.cancel();
    if (!current_) return;
    if (connected_) h_.tally(kIdle, "still open at the end of the run");
    beast::error_code ignored;
    current_->socket().close(ignored);
    current_ = nullptr;
  }

 private:
  void read(const std::shared_ptr<beast::tcp_stream>& stream) {
    stream->async_read_some(asio::buffer(scratch_), [self = shared_from_this(), stream](beast::error_code ec, std::size_t) {
      if (stream != self->current_) return;
      if (!ec) return self->read(stream);  // a timeout answer (408, say) before the close
      self->h_.tally(kIdle, "closed by the proxy");
      self->current_ = nullptr;
      self->connected_ = false;
      self->reopen(kReopenDelay);
    });
  }

  void reopen(Ms delay) {
    retry_.expires_after(delay);
    retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->open();
    });
  }

  HostileIo& h_;
  asio::steady_timer retry_;
  std::shared_ptr<beast::tcp_stream> current_;
  bool connected_ = false;
  char scratch_[512];
};

// Opens connections at a rate and closes each as soon as it is accepted.
class Flood : public std::enable_shared_from_this<Flood> {
 public:
  Flood(HostileIo& h, Ms every) : h_(h), every_(every), tick_(h.io) {}

  void start() { arm(SteadyClock::now()); }
  void finish() { tick_.cancel(); }

 private:
  void arm(SteadyTime at) {
    tick_.expires_at(at);
    tick_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
      if (ec || !self->h_.active()) return;
      self->knock();
      self->arm(std::max(at + self->every_, SteadyClock::now()));
    });
  }

  void knock() {
    if (pending_ >= kMaxPendingFloodConnects) return h_.tally(kFlood, "skipped: 64 connects already pending");
    ++pending_;
    auto stream = std::make_shared<beast::tcp_stream>(h_.io);
    stream->expires_after(kConnectTimeout);
    stream->async_connect(h_.endpoint(), [self = shared_from_this(), stream](beast::error_code ec) {
      --self->pending_;
      self->h_.tally(kFlood, ec ? "connect failed: " + ec.message() : std::string("connected and closed at once"));
      beast::error_code ignored;
      stream->socket().close(ignored);
    });
  }

  HostileIo& h_;
  Ms every_;
  asio::steady_timer tick_;
  std::size_t pending_ = 0;
};

}  // namespace

void start_slow_reader(HostileIo& h, int index) {
  auto reader = std::make_shared<SlowReader>(h, index);
  asio::post(h.io, [reader] { reader->connect(); });
  h.finishers.push_back([reader] { reader->finish(); });
}

void start_ws_attacker(HostileIo& h, const char* group, Ms every, std::function<std::string(std::uint64_t)> make) {
  auto client = std::make_shared<HostileWs>(h, group, every, std::move(make));
  asio::post(h.io, [client] { client->start(); });
  h.finishers.push_back([client] { client->finish(); });
}

void start_idle_connection(HostileIo& h) {
  auto idle = std::make_shared<IdleConnection>(h);
  asio::post(h.io, [idle] { idle->open(); });
  h.finishers.push_back([idle] { idle->finish(); });
}

void start_flood(HostileIo& h, Ms every) {
  auto flood = std::make_shared<Flood>(h, every);
  asio::post(h.io, [flood] { flood->start(); });
  h.finishers.push_back([flood] { flood->finish(); });
}

}  // namespace vixy::chaos::hostile_detail
