#pragma once
// TEST-ONLY. A deliberately broken, naive WebSocket relay standing in for the proxy, so that the
// scenario runner can be shown to catch the incident's defects. Never use it as a proxy.
//
// Each client session connects to the first EL node (primaries first) that accepts, relays text
// frames both ways, and when the upstream is lost reconnects to the next node in order. The three
// failback variants move back to the first node once it accepts again; the others never do. The
// selected bug decides what happens around a reconnection.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "net/http_server.hpp"

namespace vixy::standin {

enum class Bug {
  replay_answers,         // replays every subscribe with the client's id and forwards the answers
  drop_during_reconnect,  // drops client messages while no upstream is connected
  no_failback,            // otherwise careful, but stays on whatever node it reached
  drop_in_flight,         // forgets the requests the lost upstream had not answered (no re-send)
  unsubscribe_untranslated,  // after a reconnection, eth_unsubscribe goes out with the client's id
  replay_after_failback,     // careful when failing over; back on the first node, forwards replay answers
  duplicate_head_after_failback,  // careful; back on the first node, sends each newHeads its last head again
  reused_id_answered_twice,  // on reconnection re-sends every request of the last 2 s, answered or not
  queue_drops_when_full,     // holds at most 16 messages while reconnecting, drops the rest unannounced
  gap_left_unfilled,         // careful, fails back; only the heads and logs missed while moving stay missed
};

std::optional<Bug> parse_bug(std::string_view name);

struct Settings {
  Bug bug = Bug::no_failback;
  std::vector<config::ElNode> nodes;  // in the order they are tried
  std::chrono::milliseconds connect_timeout{2000};
};

// Takes over a WebSocket upgrade request and relays until the client leaves.
boost::asio::awaitable<void> serve_websocket(const Settings& settings, net::HttpConnection& connection,
                                             net::Request& request);

}  // namespace vixy::standin
