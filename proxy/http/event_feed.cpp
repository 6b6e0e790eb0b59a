#include "http/event_feed.hpp"

#include <algorithm>
#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/relay.hpp"
#include "http/upstream_response.hpp"
#include "log/log.hpp"

namespace vixy::http {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// A node's refusal (say 400 for an unknown topic) is passed on whole up to this size.
constexpr std::size_t kMaxRefusalBody = 64 * 1024;

using FeedParser = bhttp::response_parser<bhttp::buffer_body>;

bool is_topic_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

void SseSplitter::emit(std::vector<std::string>& out) {
  out.push_back(std::move(partial_));
  partial_.clear();
  line_empty_ = true;
  has_content_ = false;
}

bool SseSplitter::feed(std::string_view bytes, std::vector<std::string>& out) {
  for (char c : bytes) {
    if (cr_boundary_) {
      cr_boundary_ = false;
      if (c == '\n') {
        partial_ += c;
        after_cr_ = false;
        emit(out);
        continue;
      }
      emit(out);
    }
    partial_ += c;
    if (c == '\n' && after_cr_) {  // the LF of a CRLF: the line already ended at its CR
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      // A line end right after a line end is the blank line that ends an event.
      if (line_empty_ && has_content_) {
        if (c == '\r') {
          cr_boundary_ = true;
        } else {
          emit(out);
        }
      }
      line_empty_ = true;
    } else {
      line_empty_ = false;
      has_content_ = true;
    }
    if (partial_.size() > max_event_) return false;
  }
  return true;
}

std::optional<std::string> shared_event_topics(std::string_view suffix) {
  constexpr std::string_view kPath = "/eth/v1/events?";
  if (!suffix.starts_with(kPath)) return std::nullopt;
  std::string_view query = suffix.substr(kPath.size());
  std::vector<std::string> topics;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    constexpr std::string_view kTopics = "topics=";
    if (!param.starts_with(kTopics)) return std::nullopt;
    std::string_view list = param.substr(kTopics.size());
    for (;;) {  // every comma-separated part must be a topic: "head," is not a plain list
      auto comma = list.find(',');
      std::string_view topic = list.substr(0, comma);
      if (topic.empty() || !std::all_of(topic.begin(), topic.end(), is_topic_char)) return std::nullopt;
      topics.emplace_back(topic);
      if (comma == std::string_view::npos) break;
      list = list.substr(comma + 1);
    }
  }
  if (topics.empty()) return std::nullopt;
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  std::string canonical;
  for (const auto& topic : topics) {
    if (!canonical.empty()) canonical += ',';
    canonical += topic;
  }
  return canonical;
}

EventFeed::EventFeed(EventFeeds& feeds, std::size_t node, std::string topics, std::string target)
    : feeds_(feeds), node_(node), topics_(std::move(topics)), target_(std::move(target)) {
  ++feeds_.alive_;
}

EventFeed::~EventFeed() {
  feeds_.forget(*this);
  --feeds_.alive_;
}

void EventFeed::add(FeedListener& listener) {
  listeners_.push_back(&listener);
  feeds_.metrics_.cl_event_listeners.add(1);
}

void EventFeed::remove(FeedListener& listener) {
  auto it = std::find(listeners_.begin(), listeners_.end(), &listener);
  if (it == listeners_.end()) return;
  listeners_.erase(it);
  feeds_.metrics_.cl_event_listeners.add(-1);
  // The last listener gone: the node's stream is let go of (the read ends, and run() with it).
  if (listeners_.empty() && upstream_ != nullptr) upstream_->tcp().cancel();
}

void EventFeed::wake_all() {
  for (FeedListener* listener : listeners_) listener->wake.cancel();
}

void EventFeed::settle(State state) {
  if (state_ != State::connecting && state_ != State::live) return;
  state_ = state;
  feeds_.forget(*this);  // from now on a new listener starts a feed of its own
  wake_all();
}

void EventFeed::publish(std::vector<std::string>& events) {
  for (auto& text : events) {
    const std::size_t size = text.size();
    auto shared = std::make_shared<const std::string>(std::move(text));
    for (FeedListener* listener : listeners_) {
      if (listener->overflowed) continue;
      if (listener->queued_bytes + size > EventFeeds::kMaxListenerBacklog) {
        listener->overflowed = true;
        listener->events.clear();
        listener->events.shrink_to_fit();
        listener->queued_bytes = 0;
      } else {
        listener->events.push_back(shared);
        listener->queued_bytes += size;
      }
      listener->wake.cancel();
    }
  }
  events.clear();
}

asio::awaitable<void> EventFeed::run(std::shared_ptr<EventFeed> self, Clock::time_point deadline) {
  auto acquired = co_await self->feeds_.pools_[self->node_].requests.connect(deadline);
  if (!acquired.connection) {
    self->failure_ = acquired.failure;
    self->error_ = acquired.error;
    self->settle(State::failed);
    co_return;
  }
  auto& connection = *acquired.connection;
  auto& open = self->feeds_.metrics_.cl_event_upstreams.with({self->feeds_.names_[self->node_]});
  open.add(1);
  self->upstream_ = &connection;
  co_await connection.with_stream([&](auto& s) { return self->stream_from(s, connection, deadline); });
  self->upstream_ = nullptr;
  open.add(-1);
  self->settle(State::ended);
}

template <class Stream>
asio::awaitable<void> EventFeed::stream_from(Stream& stream, UpstreamConnection& connection,
                                             Clock::time_point deadline) {
  auto& pool = feeds_.pools_[node_].requests;
  bhttp::request<bhttp::string_body> request{bhttp::verb::get, target_, 11};
  request.set(bhttp::field::accept, "text/event-stream");
  pool.prepare(request);
  request.prepare_payload();
  connection.tcp().expires_at(deadline);
  auto fail = [this](const beast::error_code& ec, bool got_some) {
    failure_ = classify_failure(ec, got_some);
    error_ = ec;
    settle(State::failed);
  };
  auto [wec, wn] = co_await bhttp::async_write(stream, request, use_tuple);
  (void)wn;
  if (wec) {
    fail(wec, false);
    co_return;
  }
  std::optional<FeedParser> parser;
  bool got_some = false;
  auto ec = co_await read_final_header(stream, connection.buffer, parser,
                                       [](FeedParser& p) { p.body_limit(boost::none); }, got_some);
  if (ec) {
    fail(ec, got_some);
    co_return;
  }
  status_ = parser->get().result_int();
  for (const auto& field : parser->get().base()) {
    if (!is_hop_by_hop(field.name())) fields_.insert(field.name_string(), field.value());
  }
  auto type = fields_.find(bhttp::field::content_type);
  const bool events = status_ == 200 && type != fields_.end() && type->value().starts_with("text/event-stream");

  std::array<char, kReadChunk> chunk;
  auto read = [&]() -> asio::awaitable<std::pair<beast::error_code, std::size_t>> {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    auto [rec, rn] = co_await bhttp::async_read_some(stream, connection.buffer, *parser, use_tuple);
    (void)rn;
    if (rec == bhttp::error::need_buffer) rec = {};
    co_return std::pair{rec, chunk.size() - parser->get().body().size};
  };

  if (!events) {
    // The node refused (an unknown topic, say): each listener gets that answer, as if relayed.
    while (!parser->is_done()) {
      auto [rec, n] = co_await read();
      if (rec || body_.size() + n > kMaxRefusalBody) {
        fail(rec ? rec : beast::error_code(bhttp::error::body_limit), true);
        co_return;
      }
      body_.append(chunk.data(), n);
    }
    settle(State::answered);
    co_return;
  }

  connection.tcp().expires_never();
  state_ = State::live;
  wake_all();
  // The node stops being routable: the read is cancelled, and every listener's response ends.
  EventStreams::Watch watch(feeds_.streams_, node_, [this] {
    moved_ = true;
    if (upstream_ != nullptr) upstream_->tcp().cancel();
  });
  SseSplitter splitter(EventFeeds::kMaxEvent);
  std::vector<std::string> out;
  while (!parser->is_done() && !moved_ && !listeners_.empty()) {
    auto [rec, n] = co_await read();
    if (rec) break;
    if (!splitter.feed({chunk.data(), n}, out)) {
      log::warn("cl event stream dropped: an event exceeds the size bound",
                {{"node", feeds_.names_[node_]}, {"limit_bytes", EventFeeds::kMaxEvent}});
      break;
    }
    publish(out);
  }
}

EventFeeds::EventFeeds(std::deque<NodePools>& pools, EventStreams& streams, observability::ProxyMetrics& metrics,
                       std::vector<std::string> node_names)
    : pools_(pools), streams_(streams), metrics_(metrics), names_(std::move(node_names)) {}

std::shared_ptr<EventFeed> EventFeeds::join(const asio::any_io_executor& executor, std::size_t node,
                                            const std::string& topics, const std::string& target,
                                            Clock::time_point deadline) {
  auto key = std::make_pair(node, topics);
  if (auto it = feeds_.find(key); it != feeds_.end()) {
    if (auto feed = it->second.lock()) return feed;  // settled feeds are forgotten at once
  }
  auto feed = std::make_shared<EventFeed>(*this, node, topics, target);
  feeds_[key] = feed;
  asio::co_spawn(executor, EventFeed::run(feed, deadline), log::report_exception("cl event feed"));
  return feed;
}

void EventFeeds::forget(EventFeed& feed) {
  auto it = feeds_.find({feed.node_, feed.topics_});
  if (it == feeds_.end()) return;
  auto current = it->second.lock();
  if (!current || current.get() == &feed) feeds_.erase(it);
}

}  // namespace vixy::http
