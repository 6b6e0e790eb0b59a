#pragma once
// Shared CL event streams: clients asking GET /cl/eth/v1/events for the same topics share one
// stream from a node (one feed per node and canonical topic set), and every event read from it is
// handed to each of its listeners as the same immutable string. A listener that falls too far
// behind is let go of alone; the node's stream, and the others, go on. The feed ends when its last
// listener leaves, when its node stops being routable (EventStreams, as for a relayed stream: the
// listeners' responses end, and their reconnects are routed afresh), or when the node ends it.
//
// Everything runs on the proxy's single io_context thread.

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/container/deque.hpp>

#include "http/event_stream.hpp"
#include "http/upstream_pool.hpp"
#include "http/upstreams.hpp"
#include "observability/proxy_metrics.hpp"

namespace vixy::http {

// Cuts an event-stream body into whole events, each with the blank line that ends it (LF, CRLF or
// CR line ends), so a listener that joins a running stream starts at an event's first byte.
class SseSplitter {
 public:
  explicit SseSplitter(std::size_t max_event) : max_event_(max_event) {}
  // Appends `bytes`; every event completed by them goes to `out`. False once an event has grown
  // past max_event bytes (the stream is then unusable).
  bool feed(std::string_view bytes, std::vector<std::string>& out);

 private:
  void emit(std::vector<std::string>& out);

  std::size_t max_event_;
  std::string partial_;
  bool line_empty_ = true;     // nothing but the line end so far on the current line
  bool has_content_ = false;   // the event so far has a non-empty line
  bool after_cr_ = false;      // the last byte was CR: a LF now belongs to the same line end
  bool cr_boundary_ = false;   // the event ended with a CR; a LF right after is still part of it
};

// The canonical topic set of an events request (sorted, without repeats, comma-joined), or nothing
// when the request is not one a feed can serve: another path, a parameter besides `topics`, no
// topic, or a topic that is not a plain name. Those are relayed one by one, as before.
std::optional<std::string> shared_event_topics(std::string_view suffix);

class EventFeed;

// One client's place on a feed, owned by the handler serving that client.
struct FeedListener {
  explicit FeedListener(const asio::any_io_executor& executor) : wake(executor, Clock::time_point::max()) {}
  boost::container::deque<std::shared_ptr<const std::string>> events;
  std::size_t queued_bytes = 0;
  bool overflowed = false;  // fell more than the backlog bound behind: dropped from the feed
  asio::steady_timer wake;  // cancelled when the feed has news for this listener
};

class EventFeeds;

class EventFeed : public std::enable_shared_from_this<EventFeed> {
 public:
  enum class State { connecting, live, answered, failed, ended };

  EventFeed(EventFeeds& feeds, std::size_t node, std::string topics, std::string target);
  ~EventFeed();

  State state() const { return state_; }
  std::size_t node() const { return node_; }
  // live: the node's response header as listeners get it (hop-by-hop fields dropped).
  unsigned status() const { return status_; }
  const bhttp::fields& fields() const { return fields_; }
  // answered: the node refused with an ordinary answer (its body, at most a small bound).
  const std::string& body() const { return body_; }
  // failed: why no answer came (a try on the next node may do better).
  UpstreamFailure failure() const { return failure_; }
  const beast::error_code& error() const { return error_; }
  // Whether the listener's response ended because the node stopped being routable.
  bool moved() const { return moved_; }

  void add(FeedListener& listener);
  void remove(FeedListener& listener);

 private:
  friend class EventFeeds;
  static asio::awaitable<void> run(std::shared_ptr<EventFeed> self, Clock::time_point deadline);
  template <class Stream>
  asio::awaitable<void> stream_from(Stream& stream, UpstreamConnection& connection, Clock::time_point deadline);
  void publish(std::vector<std::string>& events);
  void settle(State state);  // the feed is over: every listener is woken to see it
  void wake_all();

  EventFeeds& feeds_;
  std::size_t node_;
  std::string topics_;
  std::string target_;
  State state_ = State::connecting;
  unsigned status_ = 0;
  bhttp::fields fields_;
  std::string body_;
  UpstreamFailure failure_ = UpstreamFailure::none;
  beast::error_code error_;
  bool moved_ = false;
  std::vector<FeedListener*> listeners_;
  UpstreamConnection* upstream_ = nullptr;  // while connected
};

// The feeds of every CL node, by node and topics.
class EventFeeds {
 public:
  // A listener's bound: past this many bytes of events waiting for it, it is dropped.
  static constexpr std::size_t kMaxListenerBacklog = 4 * 1024 * 1024;
  static constexpr std::size_t kMaxEvent = 4 * 1024 * 1024;

  EventFeeds(std::deque<NodePools>& pools, EventStreams& streams, observability::ProxyMetrics& metrics,
             std::vector<std::string> node_names);

  // The running feed for `node` and `topics`, or a new one started on `executor` whose request
  // for the node is `target`; connecting and the response header are bounded by `deadline`.
  std::shared_ptr<EventFeed> join(const asio::any_io_executor& executor, std::size_t node, const std::string& topics,
                                   const std::string& target, Clock::time_point deadline);
  // Feeds that exist, their coroutine's included: a feed may outlive its last listener by the moment
  // its cancelled read takes to come back, and still reaches these feeds and their pools then.
  std::size_t alive() const { return alive_; }

 private:
  friend class EventFeed;
  void forget(EventFeed& feed);

  std::deque<NodePools>& pools_;
  EventStreams& streams_;
  observability::ProxyMetrics& metrics_;
  std::vector<std::string> names_;
  std::map<std::pair<std::size_t, std::string>, std::weak_ptr<EventFeed>> feeds_;
  std::size_t alive_ = 0;
};

}  // namespace vixy::http
