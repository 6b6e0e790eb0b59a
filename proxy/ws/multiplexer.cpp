#include "ws/multiplexer.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

namespace vixy::ws::mux {
namespace {

namespace raw = jsonrpc::raw;
using jsonrpc::result_text;

// Fetches a session makes when it switches nodes (gapless backfill and its start): read-only, and
// asked for identically by every session that moved at the same moment.
bool single_flight_method(std::string_view method) {
  return method == "eth_getBlockByNumber" || method == "eth_getBlockByHash" || method == "eth_getLogs" ||
         method == "eth_blockNumber";
}

// A backfill's question whose answer a later asker can be given: one that names its blocks by
// number or hash. A tag ("latest", "safe", ...) asks about the moment of asking.
bool cacheable_question(std::string_view method, std::string_view params) {
  if (method != "eth_getBlockByNumber" && method != "eth_getBlockByHash" && method != "eth_getLogs") return false;
  auto tree = jsonrpc::parse(params);
  if (!tree || !tree->is_array() || tree->empty()) return false;
  const nlohmann::json& first = tree->front();
  auto numbered = [](const nlohmann::json& value) {
    return value.is_string() && jsonrpc::from_quantity(value.get_ref<const std::string&>()).has_value();
  };
  if (method == "eth_getBlockByHash") return first.is_string();
  if (method == "eth_getBlockByNumber") return numbered(first);
  if (!first.is_object()) return false;
  if (first.contains("blockHash")) return true;
  return first.contains("fromBlock") && first.contains("toBlock") && numbered(first["fromBlock"]) &&
         numbered(first["toBlock"]);
}

// A block or a list of logs: not null (a block the node does not have yet) and not an error.
bool cacheable_answer(std::string_view text) {
  if (raw::member(text, "error")) return false;
  auto result = raw::member(text, "result");
  if (!result) return false;
  std::string_view value = result->of(text);
  return !value.empty() && (value.front() == '{' || value.front() == '[');
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

// Subscription params compared by value: {"address":..,"topics":..} in either member order, or with
// other spacing, is the same subscription. Texts that do not parse are compared as they are.
std::pair<std::string, gapless::Kind> canonical(std::string_view params) {
  auto tree = jsonrpc::parse(params);
  if (!tree) return {std::string(params), gapless::Kind::other};
  return {tree->dump(), gapless::classify(*tree).kind};
}

}  // namespace

Multiplexer::Multiplexer(Settings settings) : settings_(settings) {
  settings_.max_sockets = std::max<std::size_t>(settings_.max_sockets, 1);
}

std::vector<Action> Multiplexer::take_actions() {
  std::vector<Action> out;
  out.swap(actions_);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Channels

SocketId Multiplexer::pick_socket() {
  if (sockets_.size() < settings_.max_sockets) {
    SocketId socket = next_socket_++;
    sockets_[socket];
    actions_.push_back(OpenSocket{socket});
    return socket;
  }
  auto fewest = std::min_element(sockets_.begin(), sockets_.end(), [](const auto& a, const auto& b) {
    return a.second.channels.size() < b.second.channels.size();
  });
  return fewest->first;
}

void Multiplexer::open(ChannelId channel) {
  if (channels_.contains(channel)) return;
  SocketId socket = pick_socket();
  Socket& state = sockets_.at(socket);
  state.channels.insert(channel);
  channels_[channel] = Channel{socket, state.open, {}};
  if (state.open) actions_.push_back(ChannelUp{channel});
}

void Multiplexer::send(ChannelId channel, std::string_view text, bool backfill) {
  auto it = channels_.find(channel);
  if (it == channels_.end() || !it->second.up) return;
  Channel& state = it->second;
  auto view = raw::view_message(text);
  if (!view.object || !view.id) {
    // Not something SessionCore sends; passed on, and whatever comes back is stray.
    actions_.push_back(ToSocket{state.socket, std::string(text)});
    ++counters_.sent;
    return;
  }
  std::string id(view.id->of(text));
  std::string method = view.method ? raw::string_value(view.method->of(text)).value_or("") : "";
  std::string_view params = view.params ? view.params->of(text) : std::string_view{};
  if (method == "eth_subscribe" && view.params) {
    subscribe(channel, state, std::move(id), text, params);
    return;
  }
  if (method == "eth_unsubscribe" && view.params && unsubscribe(state, id, params)) return;

  InFlight flight;
  flight.socket = state.socket;
  flight.askers.push_back(Asker{channel, std::move(id), {}, now_});
  if (single_flight_method(method)) {
    std::string key = method;
    key += '\n';
    key += params;
    bool cacheable = backfill && cacheable_question(method, params);
    if (cacheable && answer_from_cache(channel, flight.askers.front().id, key)) return;
    if (InFlight* shared = joinable(key, /*any_age=*/cacheable)) {
      shared->cacheable = shared->cacheable || cacheable;
      shared->askers.push_back(std::move(flight.askers.front()));
      ++counters_.fetches_shared;
      return;
    }
    flight.single_flight = std::move(key);
    flight.cacheable = cacheable;
    flight.text = std::string(text);
    flight.id_begin = view.id->begin;
    flight.id_end = view.id->end;
    send_single_flight(std::move(flight));
    return;
  }
  transmit(std::move(flight), text, view.id->begin, view.id->end);
}

void Multiplexer::subscribe(ChannelId channel, Channel& state, std::string id, std::string_view text,
                            std::string_view params) {
  auto [key, kind] = canonical(params);
  std::string alias = mint_alias();
  if (auto found = shared_by_key_.find({state.socket, key}); found != shared_by_key_.end()) {
    ++counters_.subscribes_shared;
    Shared& shared = shared_.at(found->second);
    if (shared.upstream_id.empty()) {  // its subscribe is still in flight: wait for the same answer
      in_flight_.at(shared.subscribing).askers.push_back(Asker{channel, std::move(id), std::move(alias), now_});
      return;
    }
    add_alias(found->second, alias, channel);
    actions_.push_back(ToChannel{channel, result_text(id, json_string(alias))});
    return;
  }
  std::uint64_t number = next_shared_++;
  shared_by_key_[{state.socket, key}] = number;
  Shared& shared = shared_[number];
  shared.socket = state.socket;
  shared.key = std::move(key);
  shared.kind = kind;
  InFlight flight;
  flight.kind = Kind::subscribe;
  flight.socket = state.socket;
  flight.shared = number;
  flight.askers.push_back(Asker{channel, std::move(id), std::move(alias), now_});
  auto id_span = raw::view_message(text).id.value();
  shared.subscribing = transmit(std::move(flight), text, id_span.begin, id_span.end);
}

bool Multiplexer::unsubscribe(Channel& state, std::string_view id, std::string_view params) {
  auto elements = raw::elements(params);
  if (!elements || elements->size() != 1) return false;
  auto alias = raw::string_value(elements->front().of(params));
  // Not one of this channel's: the node answers it (as it would have on a dedicated connection).
  if (!alias || !state.aliases.contains(*alias)) return false;
  ChannelId channel = 0;
  if (auto found = aliases_.find(*alias); found != aliases_.end()) channel = shared_.at(found->second).aliases.at(*alias);
  drop_alias(*alias);
  actions_.push_back(ToChannel{channel, result_text(id, "true")});
  return true;
}

void Multiplexer::add_alias(std::uint64_t number, const std::string& alias, ChannelId channel) {
  Shared& shared = shared_.at(number);
  shared.aliases[alias] = channel;
  if (!shared.block.empty()) shared.joined_mid_block.insert(alias);
  aliases_[alias] = number;
  channels_.at(channel).aliases.insert(alias);
  ++subscribers_by_kind_[static_cast<std::size_t>(shared.kind)];
}

void Multiplexer::drop_alias(const std::string& alias) {
  auto found = aliases_.find(alias);
  if (found == aliases_.end()) return;
  std::uint64_t number = found->second;
  aliases_.erase(found);
  Shared& shared = shared_.at(number);
  --subscribers_by_kind_[static_cast<std::size_t>(shared.kind)];
  if (auto channel = channels_.find(shared.aliases.at(alias)); channel != channels_.end()) {
    channel->second.aliases.erase(alias);
  }
  shared.aliases.erase(alias);
  shared.joined_mid_block.erase(alias);
  if (shared.aliases.empty()) end_shared(number, /*tell_node=*/true);
}

void Multiplexer::end_shared(std::uint64_t number, bool tell_node) {
  auto it = shared_.find(number);
  if (it == shared_.end()) return;
  Shared shared = std::move(it->second);
  shared_.erase(it);
  shared_by_key_.erase({shared.socket, shared.key});
  subscribers_by_kind_[static_cast<std::size_t>(shared.kind)] -= shared.aliases.size();
  for (const auto& [alias, channel] : shared.aliases) {
    aliases_.erase(alias);
    if (auto state = channels_.find(channel); state != channels_.end()) state->second.aliases.erase(alias);
  }
  if (shared.upstream_id.empty()) return;
  auto socket = sockets_.find(shared.socket);
  if (socket == sockets_.end()) return;
  socket->second.subscriptions.erase(shared.upstream_id);
  if (!tell_node) return;
  std::string text = R"({"jsonrpc":"2.0","id":0,"method":"eth_unsubscribe","params":[)" +
                     jsonrpc::json(shared.upstream_id).dump() + "]}";
  InFlight flight;
  flight.kind = Kind::internal;
  flight.socket = shared.socket;
  constexpr std::size_t id_at = sizeof(R"({"jsonrpc":"2.0","id":)") - 1;
  transmit(std::move(flight), text, id_at, id_at + 1);
}

void Multiplexer::close(ChannelId channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  std::set<std::string> aliases = std::move(it->second.aliases);
  SocketId socket = it->second.socket;
  channels_.erase(it);
  for (const auto& alias : aliases) drop_alias(alias);
  // Answers still due to it are dropped when they come: its askers are no longer alive.
  auto state = sockets_.find(socket);
  if (state == sockets_.end()) return;
  state->second.channels.erase(channel);
  if (state->second.channels.empty()) {
    actions_.push_back(CloseSocket{socket});
    remove_socket(socket);
  }
}

std::uint64_t Multiplexer::transmit(InFlight flight, std::string_view text, std::size_t id_begin,
                                    std::size_t id_end) {
  std::uint64_t id = next_id_++;
  flight.sent = now_;
  actions_.push_back(ToSocket{flight.socket, raw::splice(text, raw::Span{id_begin, id_end}, std::to_string(id))});
  ++counters_.sent;
  in_flight_.emplace(id, std::move(flight));
  return id;
}

std::string Multiplexer::mint_alias() {
  char digits[17];
  auto end = std::to_chars(digits, digits + sizeof digits, next_alias_++, 16).ptr;
  return "0x" + std::string(digits, end);
}

// ---------------------------------------------------------------------------------------------
// Sockets

void Multiplexer::socket_open(SocketId socket) {
  auto it = sockets_.find(socket);
  if (it == sockets_.end() || it->second.open) return;
  it->second.open = true;
  for (ChannelId channel : it->second.channels) {
    channels_.at(channel).up = true;
    actions_.push_back(ChannelUp{channel});
  }
}

void Multiplexer::socket_lost(SocketId socket) {
  auto it = sockets_.find(socket);
  if (it == sockets_.end()) return;
  std::set<ChannelId> channels = it->second.channels;
  for (ChannelId channel : channels) {
    // Its subscriptions die with the socket (remove_socket): nothing to tell the node.
    channels_.erase(channel);
    actions_.push_back(ChannelDown{channel});
  }
  remove_socket(socket);
}

// The socket is gone or going: what lived on it goes too, but a shared fetch still wanted by a
// channel elsewhere is sent again there.
void Multiplexer::remove_socket(SocketId socket) {
  std::vector<std::uint64_t> ended;
  for (const auto& [number, shared] : shared_) {
    if (shared.socket == socket) ended.push_back(number);
  }
  for (std::uint64_t number : ended) end_shared(number, /*tell_node=*/false);
  std::vector<InFlight> orphans;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.socket != socket) {
      ++it;
      continue;
    }
    if (!it->second.single_flight.empty()) {
      auto key = single_flight_.find(it->second.single_flight);
      if (key != single_flight_.end() && key->second == it->first) single_flight_.erase(key);
      orphans.push_back(std::move(it->second));
    }
    it = in_flight_.erase(it);
  }
  sockets_.erase(socket);
  // What went with the socket may have been the only sign of a reorg the cache should know of.
  clear_cache();
  for (auto& flight : orphans) resend_elsewhere(std::move(flight));
}

void Multiplexer::advance(Clock::time_point now) {
  now_ = now;
  if (now_ < next_sweep_) return;
  next_sweep_ = now_ + settings_.forget_after / 4;
  forget_stale();
}

void Multiplexer::forget_stale() {
  trim_cache();
  auto stale = [this](Clock::time_point at) { return now_ - at > settings_.forget_after; };
  std::vector<std::uint64_t> ended;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    InFlight& flight = it->second;
    std::erase_if(flight.askers, [&](const Asker& asker) { return stale(asker.at); });
    if (!flight.askers.empty() || !stale(flight.sent)) {
      ++it;
      continue;
    }
    if (!flight.single_flight.empty()) {
      auto key = single_flight_.find(flight.single_flight);
      if (key != single_flight_.end() && key->second == it->first) single_flight_.erase(key);
    }
    if (flight.kind == Kind::subscribe) ended.push_back(flight.shared);
    ++counters_.forgotten;
    it = in_flight_.erase(it);
  }
  // A subscribe the node never answered: the next asker subscribes afresh.
  for (std::uint64_t number : ended) end_shared(number, /*tell_node=*/false);
}

void Multiplexer::resend_elsewhere(InFlight flight) {
  std::erase_if(flight.askers, [this](const Asker& asker) { return !alive(asker); });
  if (flight.askers.empty()) return;
  if (InFlight* current = joinable(flight.single_flight)) {
    // An identical fetch went out since the last read: join it.
    for (auto& asker : flight.askers) current->askers.push_back(std::move(asker));
    return;
  }
  flight.socket = channels_.at(flight.askers.front().channel).socket;
  send_single_flight(std::move(flight));
}

// A cacheable backfill joins whatever identical fetch is in flight: its answer will be newer than
// any the cache could give it.
Multiplexer::InFlight* Multiplexer::joinable(const std::string& single_flight, bool any_age) {
  auto found = single_flight_.find(single_flight);
  if (found == single_flight_.end()) return nullptr;
  InFlight& flight = in_flight_.at(found->second);
  return any_age || flight.reads_before == reads_ ? &flight : nullptr;
}

// Becomes the flight that later identical fetches join (an older one still in flight keeps its
// askers and is answered to them).
void Multiplexer::send_single_flight(InFlight flight) {
  flight.reads_before = reads_;
  std::string text = flight.text;
  std::string key = flight.single_flight;
  std::size_t begin = flight.id_begin, end = flight.id_end;
  ++counters_.single_flight_sent;
  single_flight_[key] = transmit(std::move(flight), text, begin, end);
}

void Multiplexer::socket_text(SocketId socket, std::string_view text) {
  auto it = sockets_.find(socket);
  if (it == sockets_.end() || !it->second.open) return;
  ++reads_;
  // Whole-text validation is the session's (it decides what a broken answer means for its client);
  // here only the id and the method are located, tolerating a text that breaks off later.
  auto view = raw::view_message_before_break(text);
  auto id = view.id;
  if (!id) {
    on_notification(socket, text);
    return;
  }
  auto number = raw::uint_value(id->of(text));
  auto flight = number ? in_flight_.find(*number) : in_flight_.end();
  // A message with a method is the node's own request, whatever its id: the answer is still to come.
  if (flight == in_flight_.end() || flight->second.socket != socket || view.method) {
    ++counters_.stray;
    return;
  }
  InFlight done = std::move(flight->second);
  in_flight_.erase(flight);
  if (!done.single_flight.empty()) {
    auto key = single_flight_.find(done.single_flight);
    if (key != single_flight_.end() && key->second == *number) single_flight_.erase(key);
  }
  switch (done.kind) {
    case Kind::internal:
      return;
    case Kind::subscribe:
      on_subscribed(done, text, *id);
      return;
    case Kind::request:
      if (done.cacheable && cacheable_answer(text)) remember(done.single_flight, text, *id);
      for (const auto& asker : done.askers) {
        if (alive(asker)) actions_.push_back(ToChannel{asker.channel, raw::splice(text, *id, asker.id)});
      }
      return;
  }
}

void Multiplexer::on_subscribed(InFlight& flight, std::string_view text, raw::Span id) {
  auto it = shared_.find(flight.shared);
  if (it == shared_.end()) return;
  Shared& shared = it->second;
  shared.subscribing = 0;
  auto result = raw::member(text, "result");
  auto upstream_id = result ? raw::string_value(result->of(text)) : std::nullopt;
  if (!upstream_id || upstream_id->empty()) {
    // Refused (or an answer the session will make sense of): each asker gets it as it came.
    for (const auto& asker : flight.askers) {
      if (alive(asker)) actions_.push_back(ToChannel{asker.channel, raw::splice(text, id, asker.id)});
    }
    end_shared(flight.shared, /*tell_node=*/false);
    return;
  }
  shared.upstream_id = *upstream_id;
  sockets_.at(shared.socket).subscriptions[*upstream_id] = flight.shared;
  for (auto& asker : flight.askers) {
    if (!alive(asker)) continue;
    add_alias(flight.shared, asker.alias, asker.channel);
    actions_.push_back(ToChannel{asker.channel, result_text(asker.id, json_string(asker.alias))});
  }
  if (shared.aliases.empty()) end_shared(flight.shared, /*tell_node=*/true);  // everyone left meanwhile
}

void Multiplexer::on_notification(SocketId socket, std::string_view text) {
  auto params = raw::member(text, "params");
  auto subscription = params ? raw::member(params->of(text), "subscription") : std::nullopt;
  if (!subscription) {
    ++counters_.stray;
    return;
  }
  raw::Span absolute{params->begin + subscription->begin, params->begin + subscription->end};
  auto upstream_id = raw::string_value(absolute.of(text));
  const auto& subscriptions = sockets_.at(socket).subscriptions;
  auto found = upstream_id ? subscriptions.find(*upstream_id) : subscriptions.end();
  if (found == subscriptions.end()) {
    ++counters_.stray;
    return;
  }
  Shared& shared = shared_.at(found->second);
  if (shared.kind == gapless::Kind::logs) {
    auto result = raw::member(params->of(text), "result");
    std::string_view log = result ? result->of(params->of(text)) : std::string_view{};
    auto removed = result ? raw::member(log, "removed") : std::nullopt;
    auto hash = result ? raw::member(log, "blockHash") : std::nullopt;
    std::string_view block = hash ? hash->of(log) : std::string_view{};
    if (removed && removed->of(log) == "true") {
      // A reorg notice is news to every alias, those that joined in the middle of the removed
      // block too (their session's fill may have delivered its logs), and the node's next log
      // starts a block afresh.
      shared.block.clear();
      shared.joined_mid_block.clear();
    } else if (block != shared.block) {
      shared.block = std::string(block);
      shared.joined_mid_block.clear();
    }
  }
  if (!raw::valid(text, std::numeric_limits<std::size_t>::max())) {
    // Each session counts what it cannot pass on, as it would on a socket of its own.
    for (const auto& [alias, channel] : shared.aliases) {
      if (shared.joined_mid_block.contains(alias)) continue;
      actions_.push_back(ToChannel{channel, raw::splice(text, absolute, json_string(alias))});
    }
    return;
  }
  auto note = std::make_shared<const Notification>(std::string(text), absolute, shared.kind);
  watch_for_reorg(*note);
  for (const auto& [alias, channel] : shared.aliases) {
    if (shared.joined_mid_block.contains(alias)) continue;
    actions_.push_back(Notify{channel, alias, note});
  }
}

// ---------------------------------------------------------------------------------------------
// Cache

bool Multiplexer::answer_from_cache(ChannelId channel, const std::string& id, const std::string& key) {
  auto found = cache_.find(key);
  if (found == cache_.end()) return false;
  if (now_ - found->second.at > settings_.cache_for) return false;  // cache_order_ drops it in turn
  actions_.push_back(ToChannel{channel, raw::splice(found->second.text, found->second.id, id)});
  ++counters_.fetches_cached;
  return true;
}

void Multiplexer::remember(const std::string& key, std::string_view text, raw::Span id) {
  if (text.size() > settings_.cache_bytes / 4) return;  // one big answer must not empty the cache
  if (auto old = cache_.find(key); old != cache_.end()) {
    cache_bytes_ -= old->second.text.size();
    cache_.erase(old);  // its entry in cache_order_ no longer matches and is skipped
  }
  std::uint64_t order = next_cache_order_++;
  cache_.emplace(key, Cached{std::string(text), id, now_, order});
  cache_order_.emplace_back(key, order);
  cache_bytes_ += text.size();
  trim_cache();
}

// Oldest first, which is also first to expire: what is past cache_for or over the byte bound goes.
void Multiplexer::trim_cache() {
  while (!cache_order_.empty()) {
    auto& [oldest_key, oldest_order] = cache_order_.front();
    auto entry = cache_.find(oldest_key);
    bool current = entry != cache_.end() && entry->second.order == oldest_order;
    if (current && cache_bytes_ <= settings_.cache_bytes && now_ - entry->second.at <= settings_.cache_for) break;
    if (current) {
      cache_bytes_ -= entry->second.text.size();
      cache_.erase(entry);
    }
    cache_order_.pop_front();
  }
}

void Multiplexer::clear_cache() {
  cache_.clear();
  cache_order_.clear();
  cache_bytes_ = 0;
}

// A head at a height seen before with another hash, or a log removed: the node reorged, and a
// cached header by number or logs over a range may no longer be its chain.
void Multiplexer::watch_for_reorg(const Notification& note) {
  const auto& facts = note.facts();
  if (facts.log && facts.log->removed) {
    clear_cache();
    return;
  }
  if (!facts.head) return;
  auto [seen, fresh] = recent_heads_.try_emplace(facts.head->number, facts.head->hash);
  if (!fresh && seen->second != facts.head->hash) {
    clear_cache();
    seen->second = facts.head->hash;
  }
  // Each of the node's sockets brings the same heads: a short memory tells a repeat from a reorg.
  constexpr std::size_t kRecentHeads = 64;
  while (recent_heads_.size() > kRecentHeads) recent_heads_.erase(recent_heads_.begin());
}

}  // namespace vixy::ws::mux
