#include "chaos/workload.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "chaos/hostile_messages.hpp"
#include "chaos/http_client.hpp"
#include "net/ws_client.hpp"

namespace vixy::chaos {

namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;
using Ms = std::chrono::milliseconds;

namespace {

json params_for(const std::string& method) {
  if (method == "eth_getBalance") return json::array({"0x0000000000000000000000000000000000000001", "latest"});
  if (method == "eth_getBlockByNumber") return json::array({"latest", false});
  if (method == "eth_getLogs") return json::array({{{"fromBlock", "latest"}, {"toBlock", "latest"}}});
  return json::array();
}

json subscribe_params(const std::string& kind, const json& logs_filter) {
  if (kind == "logs") return json::array({"logs", logs_filter});
  return json::array({kind});
}

struct Conn {
  explicit Conn(asio::io_context& io) : ws(io.get_executor()) {}
  net::WsClient ws;
  std::deque<std::shared_ptr<std::string>> queue;
  bool writing = false;
  bool close_after_writes = false;
  ConnectionHistory* history = nullptr;
};

struct AwaitedAnswer {
  std::string method;
  std::string kind;  // the subscription kind of an eth_subscribe
};

}  // namespace

// Everything on the one I/O thread: clients, their connections and the histories.
class Workload_ {
 public:
  Workload_(const Workload& spec_in, std::uint16_t port_in, WorkloadCounters& counters_in)
      : spec(spec_in), port(port_in), counters(counters_in) {
    url.host = "127.0.0.1";
    url.port = std::to_string(port);
    url.path = "/el/ws";
    ws_options.connect_timeout = Ms(5000);
    ws_options.idle_timeout = Ms(0);  // the history holds what the proxy sent, no pings of ours
    ws_options.max_message_size = 16 * 1024 * 1024;
    ws_options.user_agent = "vixy-chaos";
  }
  const Workload& spec;
  std::uint16_t port;
  net::UpstreamUrl url;
  net::WsClientOptions ws_options;
  WorkloadCounters& counters;
  asio::io_context io;
  std::deque<ConnectionHistory> histories;  // a deque: clients keep pointers into it
  std::vector<SteadyTime> bursts;           // sorted; when each client sends spec.fault_bursts requests
  bool sending = true;
  bool finishing = false;
  std::vector<std::shared_ptr<class WsWorkloadClient>> clients;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
};

class WsWorkloadClient : public std::enable_shared_from_this<WsWorkloadClient> {
 public:
  WsWorkloadClient(Workload_& w, int index, std::uint64_t seed)
      : w_(w), index_(index), rng_(seed), tick_(w.io), retry_(w.io) {
    std::vector<double> weights;
    for (const auto& [method, weight] : w.spec.method_mix) {
      methods_.push_back(method);
      weights.push_back(weight);
    }
    pick_ = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
  }

  void connect() {
    if (w_.finishing || !w_.sending) return;
    auto conn = std::make_shared<Conn>(w_.io);
    current_ = conn;
    asio::co_spawn(w_.io, conn->ws.connect(w_.url, w_.ws_options),
                   [self = shared_from_this(), conn](std::exception_ptr, beast::error_code ec) {
                     if (ec || conn != self->current_) return self->connect_failed(conn);
                     self->opened(conn);
                   });
  }

  void stop_sending() { tick_.cancel(); }

  void finish() {
    tick_.cancel();
    retry_.cancel();
    auto conn = current_;
    if (!conn) return;
    if (conn->history == nullptr) {  // still connecting: no history to end, nothing to say goodbye to
      current_ = nullptr;
      conn->ws.abort();
      return;
    }
    conn->history->closed(false, "end of run");
    close(conn);
  }

 private:
  void connect_failed(const std::shared_ptr<Conn>& conn) {
    if (conn != current_) return;
    current_ = nullptr;
    ++w_.counters.connect_failures;
    conn->ws.abort();
    reconnect_later(Ms(250));
  }

  void reconnect_later(Ms delay) {
    if (w_.finishing || !w_.sending) return;
    retry_.expires_after(delay);
    retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void opened(const std::shared_ptr<Conn>& conn) {
    // A connect begun before the workload stopped sending may finish after it: that connection
    // sends nothing (its subscribes would go unanswered when the run ends a moment later).
    if (!w_.sending || w_.finishing) {
      current_ = nullptr;
      conn->ws.abort();
      return;
    }
    auto& h = w_.histories.emplace_back();
    h.client = index_;
    h.connection = connections_++;
    h.opened = SteadyClock::now();
    conn->history = &h;
    ++w_.counters.connections;
    outstanding_.clear();
    subs_.clear();
    draining_ = false;
    read(conn);
    const auto& kinds = w_.spec.subscription_kinds;
    for (int i = 0; i < w_.spec.subscriptions_per_client; ++i) subscribe(kinds[static_cast<std::size_t>(i) % kinds.size()]);
    auto now = SteadyClock::now();
    std::uniform_real_distribution<double> phase(0, 1);
    auto spread = [&](int every_ms) { return now + Ms(static_cast<int>(every_ms * phase(rng_))); };
    interval_ = w_.spec.requests_per_second > 0 ? Ms(static_cast<int>(1000.0 / w_.spec.requests_per_second)) : Ms(0);
    next_request_ = spread(static_cast<int>(interval_.count()));
    next_probe_ = spread(w_.spec.probe_interval_ms);
    next_resub_ = now + Ms(w_.spec.resubscribe_every_ms) + Ms(static_cast<int>(w_.spec.resubscribe_every_ms * phase(rng_)));
    next_reconnect_ = now + Ms(w_.spec.reconnect_every_ms / 2) + Ms(static_cast<int>(w_.spec.reconnect_every_ms * phase(rng_)));
    next_burst_ = static_cast<std::size_t>(std::lower_bound(w_.bursts.begin(), w_.bursts.end(), now) - w_.bursts.begin());
    arm();
  }

  json make_id() {
    if (w_.spec.id_style == IdStyle::sequential) return ++seq_;
    if (w_.spec.id_style == IdStyle::string) return "c" + std::to_string(index_) + "-" + std::to_string(++seq_);
    // Reused: the smallest id not waiting for an answer, like clients that recycle ids.
    for (int id = 1;; ++id) {
      if (!outstanding_.count(json(id).dump())) return id;
    }
  }

  void send_request(const std::string& method, json params, std::string kind = {}) {
    auto conn = current_;
    if (!conn || conn->history == nullptr || draining_) return;
    json id = make_id();
    json message{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
    auto text = std::make_shared<std::string>(message.dump());
    outstanding_[id.dump()] = {method, std::move(kind)};
    ++w_.counters.requests;
    ++w_.counters.outstanding;
    conn->history->sent(*text);
    conn->queue.push_back(std::move(text));
    pump(conn);
  }

  void subscribe(const std::string& kind) { send_request("eth_subscribe", subscribe_params(kind, w_.spec.logs_filter), kind); }

  void pump(const std::shared_ptr<Conn>& conn) {
    if (conn->writing) return;
    if (conn->queue.empty()) {
      if (conn->close_after_writes) close(conn);
      return;
    }
    conn->writing = true;
    auto text = conn->queue.front();
    conn->queue.pop_front();
    // `text` rides in the handler: the write refers to it until it completes.
    asio::co_spawn(w_.io, conn->ws.write(*text),
                   [self = shared_from_this(), conn, text](std::exception_ptr, beast::error_code ec) {
                     conn->writing = false;
                     if (ec) return;  // the read side reports the loss
                     self->pump(conn);
                   });
  }

  void read(const std::shared_ptr<Conn>& conn) {
    asio::co_spawn(w_.io, conn->ws.read(), [self = shared_from_this(), conn](std::exception_ptr, std::pair<beast::error_code, std::string> got) {
      if (conn != self->current_) return;
      auto& [ec, text] = got;
      if (ec) return self->lost(conn, ec.message() + (conn->ws.close_code() ? " (close code " + std::to_string(conn->ws.close_code()) + ")" : ""));
      conn->history->received(text);
      self->on_message(text);
      if (conn == self->current_) self->read(conn);
    });
  }

  void on_message(const std::string& text) {
    json m = parse_bounded(text);
    if (!m.is_object()) return;
    if (m.contains("method")) {
      ++w_.counters.notifications;
      return;
    }
    if (!m.contains("id")) return;
    ++w_.counters.answers;
    auto it = outstanding_.find(m["id"].dump());
    if (it == outstanding_.end()) return;
    AwaitedAnswer p = std::move(it->second);
    outstanding_.erase(it);
    --w_.counters.outstanding;
    if (p.method == "eth_subscribe" && m.contains("result") && m["result"].is_string()) {
      subs_.emplace_back(m["result"].get<std::string>(), p.kind);
    }
    if (draining_ && outstanding_.empty()) planned_close();
  }

  void lost(const std::shared_ptr<Conn>& conn, const std::string& reason) {
    tick_.cancel();
    conn->history->closed(true, reason);
    ++w_.counters.closed_by_peer;
    w_.counters.outstanding -= static_cast<std::int64_t>(outstanding_.size());
    outstanding_.clear();
    current_ = nullptr;
    conn->ws.abort();
    reconnect_later(Ms(100));
  }

  // A reconnection the client chose: wait for its answers, close, connect again.
  void planned_close() {
    auto conn = current_;
    if (!conn || conn->history == nullptr) return;
    tick_.cancel();
    conn->history->closed(false, "planned reconnection");
    w_.counters.outstanding -= static_cast<std::int64_t>(outstanding_.size());
    outstanding_.clear();
    close(conn);
    reconnect_later(Ms(50));
  }

  void close(const std::shared_ptr<Conn>& conn) {
    current_ = nullptr;
    if (conn->writing || !conn->queue.empty()) {
      conn->close_after_writes = true;
      return;
    }
    conn->close_after_writes = false;
    // The closing handshake gets 1 s; WorkloadRunner::finish relies on that bound.
    auto limit = std::make_shared<asio::steady_timer>(w_.io, Ms(1000));
    limit->async_wait([conn](beast::error_code ec) {
      if (!ec) conn->ws.abort();
    });
    asio::co_spawn(w_.io, conn->ws.close(1000), [conn, limit](std::exception_ptr, beast::error_code) {
      limit->cancel();
      conn->ws.abort();
    });
  }

  void arm() {
    if (!current_ || !w_.sending || w_.finishing) return;
    auto due = SteadyClock::time_point::max();
    if (interval_.count() > 0) due = std::min(due, next_request_);
    if (w_.spec.probe_interval_ms > 0) due = std::min(due, next_probe_);
    if (w_.spec.resubscribe_every_ms > 0) due = std::min(due, next_resub_);
    if (w_.spec.reconnect_every_ms > 0) due = std::min(due, draining_ ? drain_deadline_ : next_reconnect_);
    if (w_.spec.fault_bursts > 0 && next_burst_ < w_.bursts.size()) due = std::min(due, w_.bursts[next_burst_]);
    if (due == SteadyClock::time_point::max()) return;
    tick_.expires_at(due);
    tick_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_tick();
    });
  }

  void on_tick() {
    // A tick armed for an earlier connection may fire while the next one is still connecting.
    if (!current_ || current_->history == nullptr || !w_.sending) return;
    auto now = SteadyClock::now();
    auto advance = [&](SteadyTime& next, Ms every) {
      next += every;
      if (next < now - Ms(1000)) next = now + every;  // far behind (a stall): do not burst to catch up
    };
    if (draining_) {
      if (now >= drain_deadline_) planned_close();
      else arm();
      return;
    }
    if (interval_.count() > 0 && now >= next_request_) {
      const auto& method = methods_[pick_(rng_)];
      send_request(method, params_for(method));
      advance(next_request_, interval_);
    }
    for (; next_burst_ < w_.bursts.size() && now >= w_.bursts[next_burst_]; ++next_burst_) {
      if (w_.spec.fault_bursts == 0 || now - w_.bursts[next_burst_] > Ms(200)) continue;  // long past (a stall)
      for (int i = 0; i < w_.spec.fault_bursts; ++i) {
        const auto& method = methods_[pick_(rng_)];
        send_request(method, params_for(method));
      }
    }
    if (w_.spec.probe_interval_ms > 0 && now >= next_probe_) {
      send_request("web3_clientVersion", json::array());
      advance(next_probe_, Ms(w_.spec.probe_interval_ms));
    }
    if (w_.spec.resubscribe_every_ms > 0 && now >= next_resub_) {
      if (!subs_.empty()) {
        std::size_t i = std::uniform_int_distribution<std::size_t>(0, subs_.size() - 1)(rng_);
        auto [sub, kind] = subs_[i];
        subs_.erase(subs_.begin() + static_cast<std::ptrdiff_t>(i));
        send_request("eth_unsubscribe", json::array({sub}));
        subscribe(kind);
      }
      advance(next_resub_, Ms(w_.spec.resubscribe_every_ms));
    }
    if (w_.spec.reconnect_every_ms > 0 && now >= next_reconnect_) {
      advance(next_reconnect_, Ms(w_.spec.reconnect_every_ms));
      draining_ = true;
      drain_deadline_ = now + Ms(std::max(1000, w_.spec.drain_ms));
      if (outstanding_.empty()) {
        planned_close();
        return;
      }
    }
    arm();
  }

  Workload_& w_;
  int index_;
  std::mt19937_64 rng_;
  asio::steady_timer tick_;
  asio::steady_timer retry_;
  std::shared_ptr<Conn> current_;
  int connections_ = 0;
  std::int64_t seq_ = 0;
  std::map<std::string, AwaitedAnswer> outstanding_;  // by id text
  std::vector<std::pair<std::string, std::string>> subs_;  // (subscription id, kind)
  std::vector<std::string> methods_;
  std::discrete_distribution<std::size_t> pick_;
  Ms interval_{0};
  SteadyTime next_request_, next_probe_, next_resub_, next_reconnect_, drain_deadline_;
  std::size_t next_burst_ = 0;  // into w_.bursts
  bool draining_ = false;
};

WorkloadRunner::WorkloadRunner(const Workload& spec, std::uint16_t proxy_port, std::uint64_t seed,
                               std::vector<int> burst_at_ms)
    : spec_(spec), port_(proxy_port), seed_(seed), burst_at_ms_(std::move(burst_at_ms)),
      ws_(std::make_unique<Workload_>(spec_, port_, counters_)) {}

WorkloadRunner::~WorkloadRunner() { finish(); }

void WorkloadRunner::start() {
  sending_ = true;
  const auto now = SteadyClock::now();
  std::sort(burst_at_ms_.begin(), burst_at_ms_.end());
  for (int at : burst_at_ms_) ws_->bursts.push_back(now + Ms(at));
  for (int i = 0; i < spec_.ws_clients; ++i) {
    ws_->clients.push_back(
        std::make_shared<WsWorkloadClient>(*ws_, i, seed_ * 1000003 + static_cast<std::uint64_t>(i)));
  }
  for (auto& c : ws_->clients) asio::post(ws_->io, [c] { c->connect(); });
  ws_->guard.emplace(ws_->io.get_executor());
  ws_thread_ = std::thread([this] { ws_->io.run(); });
  if (spec_.http_requests_per_second > 0) http_thread_ = std::thread([this] { http_loop(); });
  listening_ = true;
  sse_per_listener_.resize(static_cast<std::size_t>(spec_.sse_listeners));
  for (int i = 0; i < spec_.sse_listeners; ++i) sse_threads_.emplace_back([this, i] { sse_loop(i); });
}

void WorkloadRunner::stop_sending() {
  sending_ = false;
  if (!ws_thread_.joinable()) return;
  // Returns once the clients have heard it: a request sent by a tick that ran before the stop must
  // already count in `outstanding` when the caller starts the drain, or the drain can end at once
  // and close the connection under it (an I1 report with "the client waited 0 ms").
  std::promise<void> heard;
  auto done = heard.get_future();
  asio::post(ws_->io, [w = ws_.get(), &heard] {
    w->sending = false;
    for (auto& c : w->clients) c->stop_sending();
    heard.set_value();
  });
  done.wait();
}

void WorkloadRunner::finish() {
  if (finished_) return;
  finished_ = true;
  sending_ = false;
  if (http_thread_.joinable()) http_thread_.join();
  // Listeners listen through the drain too: events keep coming while the last answers arrive.
  listening_ = false;
  for (auto& t : sse_threads_) t.join();
  sse_threads_.clear();
  if (!sse_per_listener_.empty()) sse_stopped_ = SteadyClock::now();
  for (auto& streams : sse_per_listener_) {
    sse_histories_.insert(sse_histories_.end(), std::make_move_iterator(streams.begin()), std::make_move_iterator(streams.end()));
  }
  sse_per_listener_.clear();
  if (!ws_thread_.joinable()) return;
  asio::post(ws_->io, [w = ws_.get()] {
    w->sending = false;
    w->finishing = true;
    for (auto& c : w->clients) c->finish();
  });
  // Every operation ends within the close timeout (1 s), then run() returns on its own.
  ws_->guard.reset();
  ws_thread_.join();
  ws_->clients.clear();
  histories_.assign(std::make_move_iterator(ws_->histories.begin()), std::make_move_iterator(ws_->histories.end()));
}

void WorkloadRunner::http_loop() {
  auto interval = Ms(static_cast<int>(1000.0 / spec_.http_requests_per_second));
  auto next = SteadyClock::now();
  std::mt19937_64 rng(seed_ ^ 0x9e3779b97f4a7c15ULL);
  std::vector<double> weights;
  for (const auto& [method, weight] : spec_.method_mix) weights.push_back(weight);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  std::int64_t id = 0;
  while (sending_) {
    std::this_thread::sleep_until(next);  // pacing the request rate, not waiting for a condition
    next += interval;
    if (next < SteadyClock::now()) next = SteadyClock::now();
    const auto& method = spec_.method_mix[pick(rng)].first;
    json request{{"jsonrpc", "2.0"}, {"id", ++id}, {"method", method}, {"params", params_for(method)}};
    HttpSample sample;
    sample.sent = SteadyClock::now();
    auto r = post_json("127.0.0.1", port_, "/el", request.dump(), Ms(10'000));
    sample.latency_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - sample.sent).count();
    sample.status = r.ec ? 0 : r.status;
    json body = parse_bounded(r.body);
    if (r.ec) {
      sample.error = true;
      sample.detail = r.ec.message();
    } else if (!body.is_object() || !body.contains("result")) {
      sample.error = true;
      sample.detail = "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 120);
    }
    // An answer with another id, or a batch's answers, belongs to some other request: one that
    // reached this client through a connection the proxy shares (a 1xx taken for the answer).
    if (body.is_object() && body.contains("id") && body["id"] != id) {
      sample.wrong_id = true;
      sample.detail = "request id " + std::to_string(id) + " answered with id " + body["id"].dump();
    } else if (body.is_array()) {
      sample.wrong_id = true;
      sample.detail = "request id " + std::to_string(id) + " answered with a batch of " + std::to_string(body.size()) + " answers";
    } else if (nesting_depth(r.body) > 256) {
      sample.wrong_id = true;
      sample.detail = "request id " + std::to_string(id) + " answered with JSON nested " + std::to_string(nesting_depth(r.body)) + " deep";
    }
    ++counters_.http_requests;
    if (sample.error) ++counters_.http_errors;
    http_samples_.push_back(std::move(sample));
  }
}

}  // namespace vixy::chaos
