#pragma once
// What one WebSocket client connection observed: every text message it sent and received, in
// order, with a steady-clock timestamp, plus when it opened and how it ended. The checker judges
// the proxy only on this record, so the record holds nothing the client could not see.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace vixy::chaos {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// Milliseconds from `start` to `t` (by default now), as reports give times.
inline double ms_since(SteadyTime start, SteadyTime t = SteadyClock::now()) {
  return std::chrono::duration<double, std::milli>(t - start).count();
}

// A message cut to fit on one line of a report.
inline std::string short_text(const std::string& text) {
  return text.size() <= 160 ? text : text.substr(0, 157) + "...";
}

enum class EventKind {
  sent,            // a text message the client wrote
  received,        // a text message the client read
  closed_by_peer,  // the proxy closed the connection or it broke (text: the reason)
  closed_by_client // the client closed it (end of the run or a planned reconnection)
};

struct HistoryEvent {
  EventKind kind;
  SteadyTime at;
  std::string text;
};

struct ConnectionHistory {
  int client = 0;      // which workload client
  int connection = 0;  // the client's n-th connection (0 first); each is judged on its own
  SteadyTime opened{};
  std::vector<HistoryEvent> events;

  void sent(std::string text, SteadyTime at = SteadyClock::now()) {
    events.push_back({EventKind::sent, at, std::move(text)});
  }
  void received(std::string text, SteadyTime at = SteadyClock::now()) {
    events.push_back({EventKind::received, at, std::move(text)});
  }
  void closed(bool by_peer, std::string reason = {}, SteadyTime at = SteadyClock::now()) {
    events.push_back({by_peer ? EventKind::closed_by_peer : EventKind::closed_by_client, at, std::move(reason)});
  }
  // Whether the proxy ended this connection (requests still open then are not owed an answer).
  bool ended_by_peer() const;
  std::string label() const;  // "client 3 connection 1"
};

// What one well-behaved POST /el exchange got (one request, on a connection of its own).
struct HttpSample {
  SteadyTime sent{};
  double latency_ms = 0;
  int status = 0;          // 0: transport failure
  bool error = false;      // not an answer with a result
  bool wrong_id = false;   // not this request's answer: another id, or a batch's answers
  std::string detail;
};

// What one CL event-stream listener (GET /cl/eth/v1/events, like a browser EventSource) saw on
// one stream: the response it got, every event with its arrival time, and how the stream ended.
// A listener opens stream after stream (it reconnects whenever one ends); each is one record.
struct SseEventRecord {
  SteadyTime at;
  std::string event;  // the event's name ("message" when the stream gave none)
  std::string data;
};

struct SseStreamHistory {
  int listener = 0;
  int stream = 0;           // the listener's n-th attempt (0 first)
  SteadyTime opened{};      // when the request was sent
  int status = 0;           // HTTP status; 0: no response (refused, reset, timed out)
  std::string content_type;
  std::string error;        // why there was no response
  std::vector<SseEventRecord> events;
  SteadyTime ended{};
  bool ended_by_peer = false;  // the proxy ended the stream (false: the listener stopped at the end of the run)
  std::string label() const;   // "listener 1 stream 2"
};

// Append every connection's (or CL listener stream's) history to `path`, one JSON line each:
// {"client","connection","opened_ms","events":[[ms,"sent"|"received"|...,text]]}, and
// {"listener","stream","opened_ms","status",...,"events":[[ms,event,data]],"ended_ms",...}.
void write_histories(const std::string& path, const std::vector<ConnectionHistory>& histories, SteadyTime start);
void write_sse_histories(const std::string& path, const std::vector<SseStreamHistory>& streams, SteadyTime start);

}  // namespace vixy::chaos
