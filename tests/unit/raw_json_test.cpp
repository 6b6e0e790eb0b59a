#include "jsonrpc/raw.hpp"

#include <gtest/gtest.h>

namespace raw = vixy::jsonrpc::raw;

namespace {

std::string member_text(std::string_view text, std::string_view key) {
  auto span = raw::member(text, key);
  return span ? std::string(span->of(text)) : "<none>";
}

TEST(RawJson, FindsTopLevelMembersByteExact) {
  std::string_view text = R"( { "jsonrpc" : "2.0", "id" : 123456789012345678901234567890 , "params":[{"id":7}] } )";
  EXPECT_EQ(member_text(text, "id"), "123456789012345678901234567890");
  EXPECT_EQ(member_text(text, "params"), R"([{"id":7}])");
  EXPECT_EQ(member_text(text, "method"), "<none>");
}

TEST(RawJson, NestedAndQuotedLookalikesAreNotMembers) {
  std::string_view text = R"({"method":"x\"id\":1","params":{"id":2},"id":"a\\\"b"})";
  EXPECT_EQ(member_text(text, "id"), R"("a\\\"b")");
}

TEST(RawJson, LastDuplicateWinsLikeTheParser) {
  EXPECT_EQ(member_text(R"({"id":1,"id":-2.5e3})", "id"), "-2.5e3");
}

TEST(RawJson, MalformedTextFindsNothing) {
  EXPECT_EQ(member_text(R"({"id":)", "id"), "<none>");
  EXPECT_EQ(member_text(R"([1,2])", "id"), "<none>");
  EXPECT_EQ(member_text(R"({"id":"unterminated})", "id"), "<none>");
}

TEST(RawJson, SplitsArrayElements) {
  std::string_view text = R"([ {"a":[1,2]} , "x,y" ,null,[]])";
  auto spans = raw::elements(text);
  ASSERT_TRUE(spans);
  ASSERT_EQ(spans->size(), 4u);
  EXPECT_EQ((*spans)[0].of(text), R"({"a":[1,2]})");
  EXPECT_EQ((*spans)[1].of(text), R"("x,y")");
  EXPECT_EQ((*spans)[2].of(text), "null");
  EXPECT_EQ((*spans)[3].of(text), "[]");
  EXPECT_TRUE(raw::elements("[]")->empty());
  EXPECT_FALSE(raw::elements("[1,"));
  EXPECT_FALSE(raw::elements("{}"));
}

}  // namespace
