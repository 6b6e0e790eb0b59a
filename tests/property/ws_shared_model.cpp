// The wiring of ws_shared_model.hpp: sessions, channels and multiplexers, exactly as the production
// adapter connects them, but synchronous; and what the test checks on each channel.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ws_shared_model.hpp"

namespace vixy::ws::shared_model {

const std::vector<SubSpec>& sub_specs() {
  static const std::vector<SubSpec> specs = [] {
    const auto& a = model::Chain::addresses();
    const auto& t = model::Chain::topics();
    // Every block has a log at address a[0] with one of the topics: a logs subscription always has
    // something to deliver when the chain grows (the liveness check at the end relies on it).
    const std::string address = "\"address\":\"" + a[0] + "\"";
    const std::string topics = "\"topics\":[[\"" + t[0] + "\",\"" + t[1] + "\"]]";
    return std::vector<SubSpec>{
        {SubKind::heads, R"(["newHeads"])"},
        {SubKind::heads, R"([ "newHeads" ])"},
        {SubKind::logs, "[\"logs\",{" + address + "," + topics + "}]"},
        {SubKind::logs, "[\"logs\",{" + topics + ", " + address + "}]"},
        {SubKind::pending, R"(["newPendingTransactions"])"},
    };
  }();
  return specs;
}

std::optional<SubKind> sub_kind(const json& params) {
  if (!params.is_array() || params.empty() || !params[0].is_string()) return std::nullopt;
  const auto& name = params[0].get_ref<const std::string&>();
  if (name == "newHeads") return SubKind::heads;
  if (name == "logs") return SubKind::logs;
  if (name == "newPendingTransactions") return SubKind::pending;
  return std::nullopt;
}

Cluster::Cluster(std::size_t sessions, std::size_t max_pending, std::size_t max_sockets, unsigned health_mask)
    : settings_{max_pending, 16, kTimeout, kBackoff, kBackoffMax, kBackfillDepth},
      sockets_(kNodes),
      node_ids_(kNodes) {
  for (std::size_t node = 0; node < kNodes; ++node) {
    if ((health_mask >> node) & 1U) candidates_.push_back(node);
    muxes_.emplace_back(mux::Settings{max_sockets});
  }
  for (std::size_t i = 0; i < sessions; ++i) add_session();
}

std::vector<NodeInfo> Cluster::nodes() {
  return {{"p0", config::Tier::primary}, {"p1", config::Tier::primary}, {"b0", config::Tier::backup}};
}

std::size_t Cluster::live_session(unsigned pick) const {
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (!clients_[i].gone) live.push_back(i);
  }
  return live.empty() ? clients_.size() : live[pick % live.size()];
}

// Like the adapter: whatever one side produces may make the other produce more; on until quiet.
void Cluster::settle() {
  for (int round = 0;; ++round) {
    if (round == 10'000) return fail("sessions and multiplexers never stop producing actions");
    bool any = false;
    for (std::size_t i = 0; i < clients_.size(); ++i) any = run_session(i) || any;
    for (std::size_t n = 0; n < kNodes; ++n) any = run_mux(n) || any;
    if (!any) break;
  }
  check_bounds();
}

bool Cluster::run_session(std::size_t session) {
  auto& client = clients_[session];
  if (client.gone) return false;
  const auto actions = client.core->take_actions();
  static const bool trace = std::getenv("WS_SHARED_TRACE") != nullptr;
  for (const auto& action : actions) {
    if (const auto* send = std::get_if<SendUpstream>(&action)) {
      if (trace) std::fprintf(stderr, "  s%zu up[%llu] %s\n", session, static_cast<unsigned long long>(send->connection), send->text.c_str());
      const auto it = channel_of_.find({session, send->connection});
      // Sent just before the loss the core has been told of since: gone with the connection.
      if (it == channel_of_.end()) continue;
      auto& track = channels_.at(it->second);
      if (!track.up) {
        fail("session " + std::to_string(session) + " sent on a connection that is not open: " + send->text);
        continue;
      }
      on_channel_send(track, it->second, send->text);
      muxes_[track.node].send(it->second, send->text, send->backfill);
    } else if (const auto* to_client = std::get_if<SendClient>(&action)) {
      if (trace) std::fprintf(stderr, "  s%zu client %s\n", session, to_client->text.c_str());
      on_client(session, to_client->text);
    } else if (const auto* connect = std::get_if<Connect>(&action)) {
      if (trace) std::fprintf(stderr, "  s%zu connect[%llu] node %zu\n", session, static_cast<unsigned long long>(connect->connection), connect->node);
      if (std::find(candidates_.begin(), candidates_.end(), connect->node) == candidates_.end()) {
        fail("Connect to node " + std::to_string(connect->node) + " that is not a healthy candidate");
      }
      if (channel_of_.contains({session, connect->connection})) fail("Connect reuses a connection number");
      const ChannelId channel = next_channel_++;
      channel_of_[{session, connect->connection}] = channel;
      auto& track = channels_[channel];
      track.session = session;
      track.connection = connect->connection;
      track.node = connect->node;
      muxes_[connect->node].open(channel);
    } else if (const auto* disconnect = std::get_if<Disconnect>(&action)) {
      if (trace) std::fprintf(stderr, "  s%zu disconnect[%llu]\n", session, static_cast<unsigned long long>(disconnect->connection));
      const auto it = channel_of_.find({session, disconnect->connection});
      if (it == channel_of_.end()) continue;
      const ChannelId channel = it->second;
      const std::size_t node = channels_.at(channel).node;
      channel_of_.erase(it);
      channels_.erase(channel);
      muxes_[node].close(channel);
    }
  }
  return !actions.empty();
}

bool Cluster::run_mux(std::size_t node) {
  const auto actions = muxes_[node].take_actions();
  auto& sockets = sockets_[node];
  for (const auto& action : actions) {
    if (const auto* open = std::get_if<mux::OpenSocket>(&action)) {
      if (!sockets.try_emplace(open->socket).second) fail("OpenSocket of a socket that exists");
    } else if (const auto* close = std::get_if<mux::CloseSocket>(&action)) {
      const auto it = sockets.find(close->socket);
      if (it == sockets.end()) continue;
      for (const auto& request : it->second.inbox) node_ids_[node].erase(request["id"].get<std::uint64_t>());
      sockets.erase(it);
    } else if (const auto* to_socket = std::get_if<mux::ToSocket>(&action)) {
      const auto it = sockets.find(to_socket->socket);
      if (it == sockets.end() || !it->second.open) {
        fail("the multiplexer sent on a socket that is not open: " + to_socket->text);
        continue;
      }
      on_socket(node, to_socket->socket, to_socket->text);
    } else if (const auto* up = std::get_if<mux::ChannelUp>(&action)) {
      const auto it = channels_.find(up->channel);
      if (it == channels_.end()) continue;
      if (it->second.up) fail("ChannelUp twice for one channel");
      it->second.up = true;
      clients_[it->second.session].core->upstream_connected(it->second.connection, now_);
    } else if (const auto* text = std::get_if<mux::ToChannel>(&action)) {
      const auto it = channels_.find(text->channel);
      if (it == channels_.end()) continue;
      ++channel_messages_;
      to_channel(text->channel, text->text);
      clients_[it->second.session].core->upstream_text(it->second.connection, text->text, now_);
    } else if (const auto* note = std::get_if<mux::Notify>(&action)) {
      const auto it = channels_.find(note->channel);
      if (it == channels_.end()) continue;
      ++channel_messages_;
      to_channel(note->channel, note->note->text_for(note->alias));
      clients_[it->second.session].core->upstream_notification(it->second.connection, *note->note, note->alias, now_);
    } else if (const auto* down = std::get_if<mux::ChannelDown>(&action)) {
      const auto it = channels_.find(down->channel);
      if (it == channels_.end()) continue;
      const ChannelTrack track = it->second;
      channels_.erase(it);
      channel_of_.erase({track.session, track.connection});
      clients_[track.session].core->upstream_lost(track.connection, now_);
    }
  }
  return !actions.empty();
}

// What a session sends on a channel: remembered so that what comes back can be checked against
// what a connection of its own would have given it.
void Cluster::on_channel_send(ChannelTrack& track, ChannelId channel, const std::string& text) {
  // Most texts are plain requests: a look for the few members that matter spares a parse (ASan
  // makes parsing the bulk of the run time).
  // The core numbers what it sends; each number must be answered once (a merged fetch too).
  if (const auto id = model::raw_id(text); id && !track.waiting.insert(*id).second) {
    fail("a session sent one id twice on a channel: " + text);
  }
  if (const auto at = text.find(R"({"seq":)"); at != std::string::npos) {
    seq_channel_[std::strtoull(text.c_str() + at + 7, nullptr, 10)] = channel;
    return;
  }
  if (text.find("eth_subscribe") == std::string::npos && text.find("eth_unsubscribe") == std::string::npos) return;
  const auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return;
  const auto id = model::raw_id(text);
  const auto method = doc.value("method", std::string{});
  if (id && method == "eth_subscribe") {
    if (const auto kind = sub_kind(doc["params"])) track.subscribing[*id] = *kind;
  } else if (id && method == "eth_unsubscribe" && doc["params"].is_array() && !doc["params"].empty() &&
             doc["params"][0].is_string()) {
    track.unsubscribing[*id] = doc["params"][0].get<std::string>();
  }
}

// The multiplexer's promise to each channel: answers to what it sent, and notifications only under
// subscription ids it holds, of what it subscribed to.
void Cluster::to_channel(ChannelId channel, const std::string& text) {
  auto& track = channels_.at(channel);
  const auto where = [&] { return " (session " + std::to_string(track.session) + ", channel " + std::to_string(channel) + "): " + text; };
  if (!track.up) return fail("a message on a channel that is not up" + where());
  // The nodes' texts are nlohmann dumps (members in order, no spaces) and the multiplexer changes
  // only an id in them: plain searches find what is needed without a parse.
  constexpr std::string_view kSubscription = R"("subscription":")";
  const auto at = text.find(kSubscription);
  if (at == std::string::npos) {
    const auto id = model::raw_id(text);
    if (!id) return fail("a channel got an answer without an id" + where());
    if (track.waiting.erase(*id) == 0) return fail("a channel got an answer to no message it is waiting on" + where());
    if (auto sub = track.subscribing.find(*id); sub != track.subscribing.end()) {
      const auto doc = json::parse(text, nullptr, false);
      if (doc.contains("result") && doc["result"].is_string()) {
        if (!track.aliases.emplace(doc["result"].get<std::string>(), sub->second).second) {
          fail("a channel was given a subscription id it already holds" + where());
        }
      }
      track.subscribing.erase(sub);
    } else if (auto unsub = track.unsubscribing.find(*id); unsub != track.unsubscribing.end()) {
      if (text.find(R"("result":true)") != std::string::npos) track.aliases.erase(unsub->second);
      track.unsubscribing.erase(unsub);
    }
    return;
  }
  const auto begin = at + kSubscription.size();
  const auto alias = text.substr(begin, text.find('"', begin) - begin);
  const auto held = track.aliases.find(alias);
  if (held == track.aliases.end()) return fail("a notification under a subscription id the channel does not hold" + where());
  const bool fits = held->second == SubKind::heads  ? text.find(R"("parentHash":)") != std::string::npos
                    : held->second == SubKind::logs ? text.find(R"("logIndex":)") != std::string::npos
                                                    : text.find(R"("result":")") != std::string::npos;
  if (!fits) fail("a channel got another subscription's notification" + where());
}

void Cluster::check_bounds() {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    auto& client = clients_[i];
    if (client.gone) continue;
    client.heads_gaps = client.core->counters().gapless[0].gaps;
    if (client.core->pending_requests() > settings_.max_pending_requests ||
        client.core->queued_messages() > settings_.max_pending_requests) {
      fail("I5: session " + std::to_string(i) + " holds more than max_pending_requests");
    }
  }
}

}  // namespace vixy::ws::shared_model
