#include "session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <map>
#include <memory>

#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "net/upstream_url.hpp"
#include "net/ws_client.hpp"
#include "net/awaitable.hpp"

namespace vixy::standin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using json = nlohmann::json;
using namespace asio::experimental::awaitable_operators;
constexpr auto kRetryPause = std::chrono::milliseconds(200);
constexpr auto kFailbackProbe = std::chrono::milliseconds(300);
constexpr auto kReplayWindow = std::chrono::seconds(2);  // reused_id_answered_twice's memory
constexpr std::size_t kWaitingLimit = 16;                // queue_drops_when_full's queue

// One text frame to the client (the accepted side) or to a node (the client side).
asio::awaitable<beast::error_code> write_text(websocket::stream<beast::tcp_stream&>& ws, const std::string& text) {
  ws.text(true);
  auto [ec, n] = co_await ws.async_write(asio::buffer(text), use_tuple);
  (void)n;
  co_return ec;
}
asio::awaitable<beast::error_code> write_text(net::WsClient& ws, const std::string& text) {
  co_return co_await ws.write(text);
}

// Messages for one WebSocket, written one at a time (Beast allows a single outstanding write).
struct Outbox {
  explicit Outbox(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  void send(std::string text) {
    queue.push_back(std::move(text));
    wake.cancel();
  }
  void close() {
    closed = true;
    wake.cancel();
  }
  template <class Stream>
  asio::awaitable<void> write_loop(Stream& ws) {
    while (!closed) {
      if (queue.empty()) {
        co_await wake.async_wait(use_tuple);
        continue;
      }
      std::string text = std::move(queue.front());
      queue.pop_front();
      beast::error_code ec = co_await write_text(ws, text);
      if (ec) break;
    }
  }
  std::deque<std::string> queue;
  asio::steady_timer wake;
  bool closed = false;
};

struct Upstream {
  explicit Upstream(const asio::any_io_executor& ex) : ws(ex), outbox(ex) {}
  net::WsClient ws;
  Outbox outbox;
};

struct Subscription {
  std::string text;    // the client's eth_subscribe, verbatim
  std::string id_key;  // its id, dumped
  std::string client_sub;
  bool live = true;
  bool new_heads = false;
  std::string last_head_number;  // of the last newHeads notification relayed (a hex quantity)
};

bool is_subscription_method(const std::string& method) {
  return method == "eth_subscribe" || method == "eth_unsubscribe";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(const Settings& settings, asio::any_io_executor ex)
      : settings_(settings), executor_(ex), to_client_(ex), retry_(ex) {}

  Outbox& to_client() { return to_client_; }

  void start() { asio::co_spawn(executor_, upstream_manager(shared_from_this()), log::report_exception("standin upstream manager")); }

  void client_left() {
    client_gone_ = true;
    to_client_.close();
    retry_.cancel();
    if (upstream_) {
      upstream_->outbox.close();
      upstream_->ws.abort();
    }
  }

  void client_text(std::string text) {
    auto message = jsonrpc::parse(text);
    if (message && message->is_object() && message->contains("method")) {
      std::string method = message->value("method", "");
      if (method == "eth_subscribe" && message->contains("id")) subscribing_[message->at("id").dump()] = text;
      if (method == "eth_unsubscribe") text = translate_unsubscribe(*message, text);
    }
    if (!connected_) {
      if (settings_.bug == Bug::drop_during_reconnect && was_connected_) {
        log::info("dropped while reconnecting", {{"message", text}});
        return;
      }
      if (settings_.bug == Bug::queue_drops_when_full && was_connected_ && waiting_.size() >= kWaitingLimit) {
        // THE DEFECT: the queue is bounded, as it should be, but overflowing it tells the client
        // nothing (no error answer, no close), so the requests are simply never answered.
        log::info("queue full, dropped", {{"message", text}});
        return;
      }
      waiting_.push_back(std::move(text));
      return;
    }
    send_upstream(std::move(text));
  }

 private:
  // The client unsubscribes with the id it was given; the node knows the one it gave on replay.
  std::string translate_unsubscribe(json& message, const std::string& text) {
    auto* params = message.contains("params") && message["params"].is_array() && !message["params"].empty() &&
                           message["params"][0].is_string()
                       ? &message["params"]
                       : nullptr;
    if (params == nullptr) return text;
    std::string client_sub = (*params)[0].get<std::string>();
    for (auto& sub : subs_) {
      if (sub.client_sub != client_sub) continue;
      if (settings_.bug != Bug::replay_answers) sub.live = false;
      // THE DEFECT: the node this session moved to minted another id on replay; it never learns
      // that the client is done, and its notifications keep coming.
      if (settings_.bug == Bug::unsubscribe_untranslated) return text;
      for (const auto& [upstream_sub, mapped] : sub_map_) {
        if (mapped == client_sub) (*params)[0] = upstream_sub;
      }
      return message.dump();
    }
    return text;
  }

  void send_upstream(std::string text) {
    auto message = jsonrpc::parse(text);
    if (message && message->is_object() && message->contains("id") && message->contains("method")) {
      inflight_.emplace_back(message->at("id").dump(), text);
    }
    upstream_->outbox.send(std::move(text));
  }

  void upstream_text(std::string text) {
    auto message = jsonrpc::parse(text);
    if (!message || !message->is_object()) {
      to_client_.send(std::move(text));
      return;
    }
    if (message->value("method", "") == "eth_subscription" && message->contains("params") &&
        (*message)["params"].is_object()) {
      auto& params = (*message)["params"];
      auto it = sub_map_.find(params.value("subscription", ""));
      if (it != sub_map_.end() && it->first != it->second) {
        params["subscription"] = it->second;
        text = message->dump();
      }
      if (it != sub_map_.end() && settings_.bug == Bug::duplicate_head_after_failback) note_head(it->second, params);
      to_client_.send(std::move(text));
      return;
    }
    if (!message->contains("id")) {
      to_client_.send(std::move(text));
      return;
    }
    std::string id_key = message->at("id").dump();
    bool has_sub_id = message->contains("result") && (*message)["result"].is_string();
    if (auto replay = replaying_.find(id_key); replay != replaying_.end()) {
      if (has_sub_id) sub_map_[(*message)["result"].get<std::string>()] = subs_[replay->second].client_sub;
      replaying_.erase(replay);
      bool forward = settings_.bug == Bug::replay_answers || (settings_.bug == Bug::replay_after_failback && failed_back_);
      if (!forward) return;              // the careful variants hide replay answers
      to_client_.send(std::move(text));  // THE INCIDENT'S DEFECT: an answer the client never asked for
      return;
    }
    if (auto head = head_asks_.find(id_key); head != head_asks_.end()) {
      std::string client_sub = std::move(head->second);
      head_asks_.erase(head);
      if (!message->contains("result") || !(*message)["result"].is_object()) return;
      // THE DEFECT: the client already had this block from the node it just left.
      json notification = {{"jsonrpc", "2.0"},
                           {"method", "eth_subscription"},
                           {"params", {{"subscription", client_sub}, {"result", (*message)["result"]}}}};
      to_client_.send(notification.dump());
      return;
    }
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (it->first == id_key) {
        if (settings_.bug == Bug::reused_id_answered_twice) remember_answered(it->second);
        inflight_.erase(it);
        break;
      }
    }
    if (auto sub = subscribing_.find(id_key); sub != subscribing_.end()) {
      if (has_sub_id) {
        std::string sub_id = (*message)["result"].get<std::string>();
        auto request = jsonrpc::parse(sub->second);
        bool new_heads = request && request->contains("params") && (*request)["params"].is_array() &&
                         !(*request)["params"].empty() && (*request)["params"][0] == "newHeads";
        subs_.push_back(Subscription{sub->second, id_key, sub_id, true, new_heads, ""});
        sub_map_[sub_id] = sub_id;
      }
      subscribing_.erase(sub);
    }
    to_client_.send(std::move(text));
  }

  // On a new upstream: subscriptions replayed, requests that were in flight re-sent, then the
  // messages that waited, all in that order. No variant asks the new node for the heads and logs
  // published while the session moved (gap_left_unfilled's defect, and every variant's too).
  void on_connected(bool reconnect) {
    connected_ = true;
    was_connected_ = true;
    if (reconnect) {
      replaying_.clear();
      sub_map_.clear();
      for (std::size_t i = 0; i < subs_.size(); ++i) {
        if (!subs_[i].live) continue;
        replaying_.emplace(subs_[i].id_key, i);
        upstream_->outbox.send(subs_[i].text);
      }
      auto resend = std::move(inflight_);
      inflight_.clear();
      if (settings_.bug == Bug::drop_in_flight) {
        // THE DEFECT: what the lost node had not answered is silently forgotten.
        if (!resend.empty()) log::info("forgot requests in flight", {{"count", resend.size()}});
        resend.clear();
      }
      if (settings_.bug == Bug::reused_id_answered_twice) {
        // THE DEFECT: the replay list is pruned by age, not by answers: requests answered moments
        // ago go out again and their second answers reach the client, by then perhaps under an id
        // it reused for a newer request.
        auto now = std::chrono::steady_clock::now();
        while (!answered_.empty() && now - answered_.front().first > kReplayWindow) answered_.pop_front();
        for (auto& [at, text] : answered_) resend.emplace_back("", std::move(text));
        answered_.clear();
      }
      for (auto& [id, text] : resend) send_upstream(std::move(text));
      if (settings_.bug == Bug::duplicate_head_after_failback && failed_back_) ask_last_heads();
    }
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& text : waiting) send_upstream(std::move(text));
  }

  void remember_answered(const std::string& text) {
    auto message = jsonrpc::parse(text);
    if (!message || is_subscription_method(message->value("method", ""))) return;
    answered_.emplace_back(std::chrono::steady_clock::now(), text);
  }

  void note_head(const std::string& client_sub, const json& params) {
    const json* number = params.contains("result") && params["result"].is_object() && params["result"].contains("number")
                             ? &params["result"]["number"]
                             : nullptr;
    if (number == nullptr || !number->is_string()) return;
    for (auto& sub : subs_) {
      if (sub.client_sub == client_sub && sub.new_heads) sub.last_head_number = number->get<std::string>();
    }
  }

  // The catch-up after a failback, with an off-by-one: it starts at the last head each newHeads
  // subscription was sent, not the one after it (and, like every stand-in, fills nothing more).
  // Asking for that block by number, not for "latest", makes the repeat certain: a head produced
  // while the session moved would be new to the client.
  void ask_last_heads() {
    for (const auto& sub : subs_) {
      if (!sub.live || !sub.new_heads || sub.last_head_number.empty()) continue;
      std::string id = "standin-head-" + std::to_string(++head_asks_sent_);
      head_asks_[json(id).dump()] = sub.client_sub;
      json ask = {{"jsonrpc", "2.0"},
                  {"id", id},
                  {"method", "eth_getBlockByNumber"},
                  {"params", {sub.last_head_number, false}}};
      upstream_->outbox.send(ask.dump());
    }
  }

  bool fails_back() const {
    return settings_.bug == Bug::replay_after_failback || settings_.bug == Bug::duplicate_head_after_failback ||
           settings_.bug == Bug::gap_left_unfilled;
  }

  asio::awaitable<bool> connect(Upstream& upstream, const config::ElNode& node) {
    auto url = net::parse_upstream_url(node.ws_url);
    if (!url || url->tls) {
      log::warn("unusable node", {{"node", node.name}, {"problem", url ? "wss is not supported" : url.problem()}});
      co_return false;
    }
    net::WsClientOptions options;
    options.connect_timeout = settings_.connect_timeout;
    options.idle_timeout = std::chrono::milliseconds(0);  // naive: no keep-alive pings
    options.max_message_size = 16 * 1024 * 1024;
    auto ec = co_await upstream.ws.connect(*url, options);
    co_return !ec;
  }

  // Waits until the first node accepts again, then cuts the current upstream: the caller moves
  // the session to `better` (made before the old one is broken).
  asio::awaitable<void> failback_probe(std::shared_ptr<Upstream> current, std::shared_ptr<Upstream>& better) {
    asio::steady_timer pause(executor_);
    while (!client_gone_) {
      pause.expires_after(kFailbackProbe);
      auto [ec] = co_await pause.async_wait(use_tuple);
      if (ec || client_gone_) co_return;
      auto candidate = std::make_shared<Upstream>(executor_);
      if (co_await connect(*candidate, settings_.nodes.front()) && !client_gone_) {
        better = std::move(candidate);
        current->ws.abort();
        co_return;
      }
    }
  }

  asio::awaitable<void> read_upstream(std::shared_ptr<Upstream> upstream) {
    for (;;) {
      auto [ec, text] = co_await upstream->ws.read();
      if (ec || client_gone_) break;
      upstream_text(std::move(text));
    }
  }

  static asio::awaitable<void> upstream_manager(std::shared_ptr<Session> self) {
    const auto& nodes = self->settings_.nodes;
    std::size_t next = 0;
    bool reconnect = false;
    std::shared_ptr<Upstream> better;  // the first node again, connected by failback_probe
    while (!self->client_gone_ && !nodes.empty()) {
      std::shared_ptr<Upstream> upstream = std::move(better);
      better.reset();
      std::size_t index = 0;
      for (std::size_t k = 0; k < nodes.size() && !upstream && !self->client_gone_; ++k) {
        index = (next + k) % nodes.size();
        auto candidate = std::make_shared<Upstream>(self->executor_);
        self->upstream_ = candidate;  // so that client_left() can cut a pending connect short
        bool ok = co_await self->connect(*candidate, nodes[index]);
        if (ok) {
          upstream = candidate;
          break;
        }
      }
      if (self->client_gone_) break;
      if (!upstream) {
        // Tests wait for this line: after it, with every node dead, the session is certainly
        // reconnecting (no connect that succeeded is still on its way).
        log::info("no node reachable", {{"retry_ms", kRetryPause.count()}});
        self->retry_.expires_after(kRetryPause);
        co_await self->retry_.async_wait(use_tuple);
        continue;
      }
      self->upstream_ = upstream;
      log::info("upstream connected", {{"node", nodes[index].name}, {"reconnect", reconnect}});
      self->on_connected(reconnect);
      if (self->fails_back() && index != 0) {
        co_await (self->read_upstream(upstream) || upstream->outbox.write_loop(upstream->ws) ||
                  self->failback_probe(upstream, better));
      } else {
        co_await (self->read_upstream(upstream) || upstream->outbox.write_loop(upstream->ws));
      }
      self->connected_ = false;
      upstream->ws.abort();
      if (self->client_gone_) break;
      self->failed_back_ = better != nullptr;
      if (better) {
        log::info("failing back", {{"from", nodes[index].name}, {"to", nodes.front().name}});
        reconnect = true;
        continue;
      }
      log::info("upstream lost", {{"node", nodes[index].name}});
      next = index + 1;  // the next node in order, never back to a primary by choice
      reconnect = true;
    }
    self->upstream_.reset();
  }

  const Settings& settings_;
  asio::any_io_executor executor_;
  Outbox to_client_;
  asio::steady_timer retry_;
  std::shared_ptr<Upstream> upstream_;
  bool connected_ = false;
  bool was_connected_ = false;  // before the first connection, messages wait in every variant
  bool failed_back_ = false;    // the current upstream came from a failback (not a failover)
  bool client_gone_ = false;
  std::deque<std::string> waiting_;
  std::deque<std::pair<std::string, std::string>> inflight_;  // (id, text) sent and not answered
  std::map<std::string, std::string> subscribing_;            // id -> eth_subscribe not yet answered
  std::vector<Subscription> subs_;
  std::multimap<std::string, std::size_t> replaying_;  // id of a replayed subscribe -> subs_ index
  std::map<std::string, std::string> sub_map_;         // the node's subscription id -> the client's
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> answered_;  // (when, text)
  std::map<std::string, std::string> head_asks_;  // id of the stand-in's own latest-block ask -> client sub
  std::uint64_t head_asks_sent_ = 0;
};

}  // namespace

std::optional<Bug> parse_bug(std::string_view name) {
  if (name == "replay-answers") return Bug::replay_answers;
  if (name == "drop-during-reconnect") return Bug::drop_during_reconnect;
  if (name == "no-failback") return Bug::no_failback;
  if (name == "drop-in-flight") return Bug::drop_in_flight;
  if (name == "unsubscribe-untranslated") return Bug::unsubscribe_untranslated;
  if (name == "replay-after-failback") return Bug::replay_after_failback;
  if (name == "duplicate-head-after-failback") return Bug::duplicate_head_after_failback;
  if (name == "reused-id-answered-twice") return Bug::reused_id_answered_twice;
  if (name == "queue-drops-when-full") return Bug::queue_drops_when_full;
  if (name == "gap-left-unfilled") return Bug::gap_left_unfilled;
  return std::nullopt;
}

asio::awaitable<void> serve_websocket(const Settings& settings, net::HttpConnection& connection,
                                      net::Request& request) {
  connection.take_over();
  websocket::stream<beast::tcp_stream&> ws(connection.stream());
  auto [ec] = co_await ws.async_accept(request, use_tuple);
  if (ec) co_return;
  auto executor = co_await asio::this_coro::executor;
  auto session = std::make_shared<Session>(settings, executor);
  session->start();
  auto read_client = [](websocket::stream<beast::tcp_stream&>& stream,
                        std::shared_ptr<Session> s) -> asio::awaitable<void> {
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await stream.async_read(buffer, use_tuple);
      (void)n;
      if (rec) break;
      std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      s->client_text(std::move(text));
    }
  };
  co_await (read_client(ws, session) || session->to_client().write_loop(ws));
  session->client_left();
  connection.close();
}

}  // namespace vixy::standin
