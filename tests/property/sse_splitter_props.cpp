// The event-stream splitter behind shared CL feeds (http/event_feed.hpp): however a node's stream
// is cut into reads, listeners get exactly the events it held, byte for byte, in order; and the
// topic lists that feeds can share are recognised and put in one canonical form.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "http/event_feed.hpp"

namespace vixy::http {
namespace {

// One event as a node could send it: a few non-empty lines, all ended the same way, then a blank line.
std::string make_event(const std::vector<std::string>& lines, const std::string& eol) {
  std::string out;
  for (const auto& line : lines) out += line + eol;
  return out + eol;
}

rc::Gen<std::string> gen_line() {
  // Field names, ':' and spaces, and comment lines (": ping"), but never a line end.
  return rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(std::string("abdeity :{}0123\"_,"))));
}

RC_GTEST_PROP(SseSplitter, AnyCutOfAStreamYieldsItsEventsExactly, ()) {
  const auto count = *rc::gen::inRange(1, 12);
  std::vector<std::string> events;
  std::string stream;
  for (int i = 0; i < count; ++i) {
    const auto lines = *rc::gen::container<std::vector<std::string>>(*rc::gen::inRange(1, 4), gen_line());
    const auto eol = *rc::gen::element<std::string>("\n", "\r\n", "\r");
    events.push_back(make_event(lines, eol));
    stream += events.back();
  }
  // A CR-ended event is only known to be whole at the next byte: a last LF-ended event closes the stream.
  events.push_back("data: end\n\n");
  stream += events.back();

  SseSplitter splitter(1 << 20);
  std::vector<std::string> got;
  std::size_t at = 0;
  while (at < stream.size()) {
    const auto n = *rc::gen::inRange<std::size_t>(1, stream.size() - at + 1);
    RC_ASSERT(splitter.feed(std::string_view(stream).substr(at, n), got));
    at += n;
  }
  RC_ASSERT(got == events);
}

TEST(SseSplitter, AnEventPastTheBoundFailsTheStream) {
  SseSplitter splitter(16);
  std::vector<std::string> got;
  EXPECT_TRUE(splitter.feed("data: 1\n\n", got));
  EXPECT_FALSE(splitter.feed("data: 0123456789abcdef", got));
  EXPECT_EQ(got, std::vector<std::string>{"data: 1\n\n"});
}

TEST(SharedEventTopics, PlainTopicListsAreSharedInOneCanonicalForm) {
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head"), "head");
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head,block"), "block,head");
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=block&topics=head,block"), "block,head");
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head&topics=head"), "head");
}

TEST(SharedEventTopics, AnythingElseIsRelayedAsItCame) {
  EXPECT_EQ(shared_event_topics("/eth/v1/events"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics="), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head,"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head&apikey=x"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=Head"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events?topics=head%2Cblock"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/events/x?topics=head"), std::nullopt);
  EXPECT_EQ(shared_event_topics("/eth/v1/beacon/headers?topics=head"), std::nullopt);
}

}  // namespace
}  // namespace vixy::http
