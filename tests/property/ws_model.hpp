#pragma once
// The world around a ws::SessionCore for the model-based test (ws_session_props.cpp): a client
// that remembers what it asked and checks everything it receives (I1–I3, I5), and fake upstream
// nodes that see the core's SendUpstream texts, answer them in any order, allocate colliding
// subscription ids ("0x1", "0x2", … on every connection) and check what reaches them (I4, no
// repeat of an unsafe request). The nodes share a chain model (ws_model_chain.hpp): they send
// newHeads and logs notifications as their chains move, and answer the proxy's own fetches from
// it; the client checks I7 on what those subscriptions deliver (rules in ws_model_i7.cpp). Nothing
// here is computed by the code under test: expectations come from the contract in
// ws/session_core.hpp, ws/gapless.hpp and ARCHITECTURE §4–5.

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ws/session_core.hpp"
#include "ws_model_chain.hpp"

namespace vixy::ws::model {

using json = nlohmann::json;
using std::chrono::milliseconds;

// ---- raw JSON: ids must come back byte-exact, so they are compared as text, not as values ----

inline std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (i < s.size() && std::strchr(" \t\r\n", s[i]) != nullptr && s[i] != '\0') ++i;
  return i;
}

// End of the value starting at `i`; `s` is valid JSON (nlohmann accepted it first).
inline std::size_t value_end(std::string_view s, std::size_t i) {
  if (s[i] == '"') {
    for (++i; s[i] != '"'; ++i) {
      if (s[i] == '\\') ++i;
    }
    return i + 1;
  }
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    do {
      if (s[i] == '"') {
        i = value_end(s, i);
        continue;
      }
      if (s[i] == '{' || s[i] == '[') ++depth;
      if (s[i] == '}' || s[i] == ']') --depth;
      ++i;
    } while (depth > 0);
    return i;
  }
  while (i < s.size() && std::strchr(",}] \t\r\n", s[i]) == nullptr) ++i;
  return i;
}

// The raw elements of a top-level array, or the raw "key" → value pairs of a top-level object.
inline std::vector<std::pair<std::string, std::string>> raw_parts(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> parts;
  std::size_t i = skip_ws(s, 0);
  const bool object = s[i] == '{';
  i = skip_ws(s, i + 1);
  while (i < s.size() && s[i] != '}' && s[i] != ']') {
    std::string key;
    if (object) {
      const auto key_end = value_end(s, i);
      key = std::string(s.substr(i, key_end - i));
      i = skip_ws(s, skip_ws(s, key_end) + 1);  // past ':'
    }
    const auto end = value_end(s, i);
    parts.emplace_back(key, std::string(s.substr(i, end - i)));
    i = skip_ws(s, end);
    if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
  }
  return parts;
}

inline std::optional<std::string> raw_id(std::string_view object_text) {
  for (auto& [key, value] : raw_parts(object_text)) {
    if (key == "\"id\"") return value;
  }
  return std::nullopt;
}

// The contract's list (session_core.hpp), restated so the test does not trust safe_to_repeat().
inline bool repeatable(std::string_view m) {
  return m == "eth_call" || m.starts_with("eth_get") || m == "eth_blockNumber" || m == "eth_chainId" ||
         m.starts_with("net_") || m.starts_with("web3_") || m == "eth_sendRawTransaction" ||
         m == "eth_subscribe";
}

// The "seq" every message the test client sends carries in its params (its place in client order).
inline std::optional<std::uint64_t> seq_of(const json& request) {
  const auto params = request.find("params");
  if (params == request.end() || !params->is_array()) return std::nullopt;
  for (const auto& p : *params) {
    if (p.is_object() && p.contains("seq") && p["seq"].is_number_unsigned()) return p["seq"].get<std::uint64_t>();
  }
  return std::nullopt;
}

// What the test client calls: reads (repeatable), writes (not), and one (admin_addPeer) that changes the node and is on no list of reads.
inline constexpr std::string_view kMethods[] = {
    "eth_blockNumber", "eth_call",           "eth_getBalance",         "eth_chainId",        "net_version",
    "web3_clientVersion", "eth_sendRawTransaction", "eth_sendTransaction", "admin_addPeer"};

inline bool minted_shape(const json& id) {
  if (!id.is_string()) return false;
  const auto& s = id.get_ref<const std::string&>();
  return s.size() == 34 && s.starts_with("0x") &&
         s.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
}

enum class Kind { plain, subscribe, unsubscribe_known, unsubscribe_unknown };

struct Expect {  // a client request waiting for its one answer
  std::string id;  // raw
  Kind kind = Kind::plain;
  std::uint64_t seq = 0;
  std::string target;  // unsubscribe: the client subscription id it names
  TimePoint sent{};
};

struct BatchExpect {
  std::vector<std::pair<std::string, std::uint64_t>> elements;  // raw id, seq; requests with an id
  TimePoint sent{};
};

// What a subscription asks for: newHeads and logs go through the core's gapless streams (I7);
// `other` ("syncing" here) is passed through untouched, with opaque {tag, n} notifications.
enum class SubKind { heads, logs, other };

struct SubMeta {  // by the seq of the client's eth_subscribe; known to client and nodes alike
  SubKind kind = SubKind::other;
  json filter = json::object();  // logs: what eth_getLogs gets besides fromBlock/toBlock
  std::optional<std::uint64_t> start;  // logs: head of the node that first answered the subscribe
};

struct ClientSub {
  std::uint64_t tag = 0;  // seq of the client's eth_subscribe
  std::string id;         // minted by the proxy, as the client was given it
  bool unsubscribe_sent = false;
  bool unsubscribe_answered = false;
  // I7, newHeads: the branch as the client sees it (height -> hash): a head replaces everything
  // at its height and above, as a reorg does.
  std::map<std::uint64_t, std::string> branch;
  // The same for the heads the nodes sent it (on any connection), whether delivered yet or not.
  std::map<std::uint64_t, std::string> announced;
  // I7, logs: (blockHash, logIndex) -> whether the client holds it (delivered, not removed since).
  std::map<std::pair<std::string, std::uint64_t>, bool> logs;
  std::uint64_t log_gaps_at_start = 0;  // the core's logs gap count when the client got the id
  bool deep_reorg = false;              // a reorg deeper than backfill_depth happened in its life
};

enum class ConnState { connecting, open, dead };

struct Inbox {  // a request (or batch) a fake node has not answered yet
  json doc;
  TimePoint sent{};
  std::optional<SubKind> internal;  // the proxy's own fetch (I7), and for which kind of stream
  bool excused = false;             // its timeout was already counted as a reason for a gap
};

struct FakeConn {
  std::size_t node = 0;
  ConnState state = ConnState::connecting;
  std::vector<Inbox> inbox;                           // requests (or batches) not answered yet
  std::vector<Inbox> swallowed;                       // internal fetches it will never answer
  std::set<SubKind> kinds;                            // kinds of subscription it ever handed out
  std::set<std::uint64_t> inbox_ids;                  // upstream ids waiting for an answer here
  std::set<std::uint64_t> seqs;                       // client messages seen on this connection
  std::map<std::string, std::uint64_t> subscriptions; // upstream sub id -> tag
  std::set<std::string> retiring;                     // the core asked to unsubscribe these
  std::uint64_t next_sub = 1;
};

// Everything the test can see and do. Violations are recorded as text (the first one wins) and
// turned into a RapidCheck failure by the caller after each step.
class World {
 public:
  static constexpr std::size_t kNodes = 3;  // 0, 1: primaries; 2: backup (best first = index order)
  static constexpr milliseconds kTimeout{1'000}, kBackoff{100}, kBackoffMax{800};
  // The core adds up to a quarter to every backoff, different per session (SessionCore::lose).
  static constexpr milliseconds kBackoffLongest = kBackoffMax + kBackoffMax / 4;
  static constexpr std::size_t kBackfillDepth = 4;  // small, so gaps beyond it happen

  World(std::size_t max_pending, std::size_t max_subscriptions, std::vector<std::size_t> candidates)
      : settings_{max_pending, max_subscriptions, kTimeout, kBackoff, kBackoffMax, kBackfillDepth},
        core_(nodes(), settings_, 7),
        candidates_(std::move(candidates)) {
    core_.start(candidates_, now_);
    const auto actions = pump();
    if (!candidates_.empty() && (actions.empty() || !std::holds_alternative<Connect>(actions.front()) ||
                                 std::get<Connect>(actions.front()).node != candidates_.front())) {
      fail("start did not connect to the best candidate");
    }
  }

  const std::string& violation() const { return violation_; }
  SessionCore& core() { return core_; }
  TimePoint now() const { return now_; }

  // ---- the client ----
  void request(std::string_view method, unsigned id_style, unsigned layout);
  void client_notification(std::string_view method);
  void subscribe(unsigned kind, unsigned layout);
  void unsubscribe(unsigned target);
  void batch(unsigned size, unsigned styles);
  void garbage(unsigned which);
  void binary();
  // ---- the upstreams ----
  void connect_outcome(unsigned pick, bool ok);
  void lose(unsigned pick);
  void lose_active();
  // `mode` decides the fate of an internal fetch: 6 never answered, 7 a JSON-RPC error.
  void answer(unsigned pick, unsigned mode = 0);
  void notify(unsigned pick);
  // ---- the chain (ws_model_chain.hpp), I7 ----
  void produce(bool every_head);
  void lag(unsigned node);
  void catch_up(unsigned node, bool every_head);
  void reorg(unsigned depth, unsigned which, bool every_head);
  void stray(unsigned which);
  void health(unsigned mask);
  void advance(milliseconds by);
  // Connect everything, answer everything, let every deadline pass; then every request must have
  // had its one answer and every live subscription must deliver from the active upstream.
  void drain();
  // A notification for every live subscription from the active upstream reaches the client.
  void check_subscriptions_live();

 private:
  static std::vector<NodeInfo> nodes() {
    return {{"p0", config::Tier::primary}, {"p1", config::Tier::primary}, {"b0", config::Tier::backup}};
  }
  void fail(std::string message) {
    if (violation_.empty()) violation_ = std::move(message);
  }
  std::vector<Action> pump();
  void on_upstream(ConnectionId connection, const std::string& text);
  bool notify_on(ConnectionId connection, const std::string& upstream_sub);
  void on_upstream_request(FakeConn& conn, ConnectionId connection, const json& request);
  void send_request(Expect expect, const std::string& text);
  void garbage_like(const std::string& text, std::optional<int> code);
  void on_client(const std::string& text);
  void on_client_answer(const std::string& text, const json& message);
  void on_client_batch(const std::string& text, const json& message);
  void on_client_notification(const json& message);
  json node_answer(FakeConn& conn, const json& request);
  std::optional<SubKind> internal_kind(const FakeConn& conn, const json& request);
  json internal_answer(FakeConn& conn, const json& request, SubKind kind, unsigned mode);
  void emit(const std::array<Change, Chain::kNodes>& changes, bool every_head);
  void check_head(ClientSub& sub, const json& result);
  void check_log(ClientSub& sub, const json& result);
  void check_gaps();
  void excuse_timeouts();
  void excuse_depth(std::uint64_t tag, const Block& head);
  bool too_deep_for(const std::map<std::uint64_t, std::string>& branch, const Block& head) const;
  void check_chain_live(const std::vector<std::uint64_t>& tags);
  void check_expired();
  std::string fresh_id(unsigned style, std::uint64_t seq);
  std::string request_text(const std::string& id, std::string_view method, const std::string& params,
                           unsigned layout) const;
  bool recently_failed(std::size_t node) const {
    const auto it = failed_at_.find(node);
    return it != failed_at_.end() && now_ - it->second <= kBackoffLongest;
  }
  std::vector<ConnectionId> conns_in(ConnState state) const {
    std::vector<ConnectionId> out;
    for (const auto& [id, conn] : conns_) {
      if (conn.state == state) out.push_back(id);
    }
    return out;
  }
  std::optional<ConnectionId> active_connection() const;
  void remember_id(const std::string& id) {
    if (used_id_set_.insert(id).second) used_ids_.push_back(id);
  }
  bool outstanding_unique(const std::string& id) const {
    for (const auto& e : expects_) {
      if (e.id == id && e.kind != Kind::plain) return true;
    }
    return false;
  }

  SessionSettings settings_;
  SessionCore core_;
  std::vector<std::size_t> candidates_;
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
  std::string violation_;

  // client side
  std::vector<Expect> expects_;
  std::map<std::string, std::size_t> credits_;  // errors per raw id not yet tied to one request
  std::vector<BatchExpect> batches_;
  bool sending_batch_ = false;
  std::map<std::uint64_t, ClientSub> subs_;     // by tag
  std::map<std::string, std::uint64_t> sub_by_id_;
  std::vector<std::string> used_ids_;
  std::set<std::string> used_id_set_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> delivered_;  // (tag, notification number)
  std::uint64_t next_seq_ = 1;
  std::vector<std::string> step_client_;  // what the client received during the current event

  // upstream side
  std::map<ConnectionId, FakeConn> conns_;
  std::map<std::size_t, TimePoint> failed_at_;
  std::uint64_t first_sent_ = 0;                         // highest seq sent upstream for the first time
  std::map<std::uint64_t, std::vector<ConnectionId>> sent_on_;  // seq -> connections it went to
  std::uint64_t next_note_ = 1;

  // I7
  Chain chain_;
  std::map<std::uint64_t, SubMeta> meta_;  // by seq of the eth_subscribe
  // Per kind (heads, logs): gaps the model gave the core a reason for (a failed or unanswered
  // fetch, a gap or reorg deeper than kBackfillDepth); the core may count at most that many.
  std::array<std::uint64_t, 2> excuses_{};
  std::array<std::uint64_t, 2> gaps_seen_{};  // the core's gap counts after the last pump
  bool heads_gap_now_ = false;                // the current pump counted a newHeads gap
};

}  // namespace vixy::ws::model
