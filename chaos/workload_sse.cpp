// The workload's CL event-stream listeners (WorkloadRunner::sse_loop): one thread each, with the
// harness's synchronous SSE reader, as few listeners are needed and each mostly waits.
#include <thread>

#include "chaos/http_client.hpp"
#include "chaos/workload.hpp"

namespace vixy::chaos {

using Ms = std::chrono::milliseconds;

// One CL listener, as a browser EventSource behaves: open the stream, read events until it ends,
// wait the retry delay, open again; a failed open is retried the same way.
void WorkloadRunner::sse_loop(int listener) {
  std::string target = "/cl/eth/v1/events?topics=";
  for (std::size_t i = 0; i < spec_.sse_topics.size(); ++i) target += (i ? "," : "") + spec_.sse_topics[i];
  auto& streams = sse_per_listener_[static_cast<std::size_t>(listener)];
  int attempt = 0;
  while (listening_) {
    SseStreamHistory h;
    h.listener = listener;
    h.stream = attempt++;
    h.opened = SteadyClock::now();
    SseReader reader;
    auto ec = reader.open("127.0.0.1", port_, target, Ms(5000));
    if (ec) {
      h.error = ec.message();
    } else {
      h.status = reader.status();
      h.content_type = reader.content_type();
      if (h.status == 200 && !reader.closed()) ++counters_.sse_streams;
      while (listening_ && !reader.closed()) {
        auto event = reader.next(Ms(200));
        if (!event) continue;
        ++counters_.sse_events;
        h.events.push_back({SteadyClock::now(), std::move(event->event), std::move(event->data)});
      }
    }
    h.ended = SteadyClock::now();
    h.ended_by_peer = listening_.load();
    streams.push_back(std::move(h));
    if (!listening_) break;
    // EventSource's reconnection delay: pacing like a real client, not waiting for a condition.
    auto resume = SteadyClock::now() + Ms(spec_.sse_retry_ms);
    while (listening_ && SteadyClock::now() < resume) std::this_thread::sleep_for(Ms(20));
  }
}

}  // namespace vixy::chaos
