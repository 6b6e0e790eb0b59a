#pragma once
// What a run looked like over time, taken from the clients' records for the run's HTML page
// (chaos/run_page.hpp): where each WebSocket session was served from, how long each request
// waited, and when each subscription's notifications came. Pure: histories in, figures out.

#include <string>
#include <utility>
#include <vector>

#include "chaos/history.hpp"

namespace vixy::chaos {

struct PictureConnection {
  std::string label;  // "client 3 connection 1"
  double opened_ms = 0;
  double ended_ms = 0;
  bool ended_by_peer = false;
  std::string end_reason;
  // Each web3_clientVersion probe answer: when it came and which node answered (the fake node's
  // version ends in "/<node name>"). Between two of them the session is drawn on the first's node.
  std::vector<std::pair<double, std::string>> served_by;
};

struct PictureRequest {
  double sent_ms = 0;
  double latency_ms = 0;
  bool error = false;  // answered with a JSON-RPC error (or, over HTTP, not with a result)
  bool http = false;
};

struct PictureSubscription {
  std::string label;  // "client 3 connection 1, 0xabcd…"
  std::vector<double> notified_ms;
};

struct RunPicture {
  std::vector<PictureConnection> connections;
  std::vector<PictureRequest> requests;  // answered ones, WebSocket and HTTP
  std::vector<PictureSubscription> subscriptions;
  double end_ms = 0;  // the last thing recorded
};

// Answers are matched to requests per id in the order the requests were sent, as the checker does.
RunPicture picture_of(const std::vector<ConnectionHistory>& histories, const std::vector<HttpSample>& http,
                      SteadyTime start);

}  // namespace vixy::chaos
