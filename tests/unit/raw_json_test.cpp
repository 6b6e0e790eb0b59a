#include "jsonrpc/raw.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

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

// Strings are skipped from quote to quote: a quote ends one only after an even run of backslashes.
TEST(RawJson, BackslashRunsBeforeAQuoteDecideWhetherItEndsTheString) {
  std::string_view text = R"({"a":"q\\\"\\","b":2,"c\\\\":"\\","d":"\\\\\"","e":3})";
  EXPECT_EQ(member_text(text, "a"), R"("q\\\"\\")");
  EXPECT_EQ(member_text(text, "b"), "2");
  EXPECT_EQ(member_text(text, "d"), R"("\\\\\"")");
  EXPECT_EQ(member_text(text, "e"), "3");
  EXPECT_EQ(member_text(R"({"a":"\\"})", "a"), R"("\\")");
  EXPECT_EQ(member_text(R"({"a":"\"})", "a"), "<none>") << "the only quote after the opening one is escaped";
  EXPECT_EQ(member_text(R"({"a":"x\)", "a"), "<none>");
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

TEST(RawJsonValid, AcceptsEveryKindOfValue) {
  for (std::string_view text :
       {"0", "-0", "-12.5e+3", "1E-2", "true", "false", "null", R"("")", " \t\r\n[] ", "{}",
        R"({"a":[1,{"b":null}],"c":"\"\\\/\b\f\n\r\t\u00e9"})", R"("\ud83d\ude00")",
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",  // é € 😀 as UTF-8
        "\"\xf4\x8f\xbf\xbf\"",                      // U+10FFFF
        "123456789012345678901234567890"}) {
    EXPECT_TRUE(raw::valid(text)) << text;
  }
}

TEST(RawJsonValid, RefusesWhatTheParserRefuses) {
  for (std::string_view text :
       {"", " ", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul", "True", "[1,]", "{\"a\":1,}", "[1 2]",
        "{\"a\" 1}", "{1:2}", "[", "]", "{}}", "[]x", R"("\x")", R"("\u12")", "\"tab\there\"",
        R"("\udc00")",          // a low surrogate alone
        R"("\ud83d")",          // a high surrogate alone
        R"("\ud83d\u0041")",   // a high surrogate with a non-surrogate
        "\"\xc0\xaf\"",        // an overlong '/'
        "\"\xed\xa0\x80\"",    // a surrogate in UTF-8
        "\"\xf4\x90\x80\x80\"",  // above U+10FFFF
        "\"\xe2\x82\"",         // a truncated sequence
        "\"\x80\"", "// comment\n1", "\"unterminated"}) {
    EXPECT_FALSE(raw::valid(text)) << text;
  }
  EXPECT_FALSE(raw::valid(std::string_view("\"a\0b\"", 5)));  // a raw control byte in a string
  EXPECT_FALSE(raw::valid(std::string_view("1\0", 2)));
  EXPECT_FALSE(raw::valid("\xEF\xBB\xBF{}"));  // a byte order mark: the parser skips it, nodes refuse it
}

TEST(RawJsonValid, NumbersBeyondADoubleAreRefusedLikeTheParserDoes) {
  EXPECT_TRUE(raw::valid("1" + std::string(308, '0')));   // 1e308
  EXPECT_FALSE(raw::valid("2" + std::string(308, '0')));  // 2e308, above the largest double
  EXPECT_FALSE(raw::valid("-2" + std::string(308, '0')));
  EXPECT_FALSE(raw::valid("1e309"));
  EXPECT_TRUE(raw::valid("1e-999"));  // underflow is zero, not an error
}

TEST(RawJsonValid, NestingDepthIsNotLimitedByTheStack) {
  constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(raw::valid(deep, kUnbounded));
  std::string mixed;
  for (int i = 0; i < 3000; ++i) mixed += i % 2 == 0 ? "{\"k\":" : "[";
  mixed += "1";
  for (int i = 2999; i >= 0; --i) mixed += i % 2 == 0 ? "}" : "]";
  EXPECT_TRUE(raw::valid(mixed, kUnbounded));
  mixed.back() = ']';  // the outermost object closed as an array
  EXPECT_FALSE(raw::valid(mixed, kUnbounded));
  EXPECT_FALSE(raw::valid(std::string(100000, '[') + std::string(99999, ']'), kUnbounded));
}

std::string nested(std::size_t levels, std::string_view inner = "1") {
  std::string text;
  for (std::size_t i = 0; i < levels; ++i) text += i % 2 == 0 ? "{\"a\":" : "[";
  text += inner;
  for (std::size_t i = levels; i-- > 0;) text += i % 2 == 0 ? "}" : "]";
  return text;
}

TEST(RawJsonCheck, DepthIsCountedInOpenContainersEmptyOnesIncluded) {
  EXPECT_EQ(raw::check("1", 0), raw::Verdict::ok);
  EXPECT_EQ(raw::check("[]", 0), raw::Verdict::too_deep);
  EXPECT_EQ(raw::check("[]", 1), raw::Verdict::ok);
  EXPECT_EQ(raw::check("[[]]", 1), raw::Verdict::too_deep);
  EXPECT_EQ(raw::check("[[], {}, [1]]", 2), raw::Verdict::ok);
  EXPECT_EQ(raw::check("[[], {\"a\":{}}, [1]]", 2), raw::Verdict::too_deep);
  EXPECT_EQ(raw::check(nested(128), 128), raw::Verdict::ok);
  EXPECT_EQ(raw::check(nested(129), 128), raw::Verdict::too_deep);
  EXPECT_EQ(raw::check(nested(300), 300), raw::Verdict::ok);  // beyond the inline bits
}

TEST(RawJsonCheck, TooDeepIsToldApartFromBrokenAndIsTheDefault) {
  EXPECT_EQ(raw::check(nested(raw::kDefaultMaxDepth)), raw::Verdict::ok);
  EXPECT_EQ(raw::check(nested(raw::kDefaultMaxDepth + 1)), raw::Verdict::too_deep);
  EXPECT_FALSE(raw::valid(nested(raw::kDefaultMaxDepth + 1)));
  // 100,000 levels (the crash report's input) is refused at level 129, without scanning the rest.
  EXPECT_EQ(raw::check(nested(100000)), raw::Verdict::too_deep);
  EXPECT_EQ(raw::check("[1,"), raw::Verdict::not_json);
  EXPECT_EQ(raw::check(nested(10, "x")), raw::Verdict::not_json);
}

TEST(RawJson, CountsArrayElementsUpToOneBeyondTheLimit) {
  EXPECT_EQ(raw::count_elements("[]", 5), std::optional<std::size_t>(0));
  EXPECT_EQ(raw::count_elements(" [1, {\"a\":[2,3]}, \"x,y\"] ", 5), std::optional<std::size_t>(3));
  EXPECT_EQ(raw::count_elements("[1,2,3]", 3), std::optional<std::size_t>(3));
  EXPECT_EQ(raw::count_elements("[1,2,3,4,5,6]", 3), std::optional<std::size_t>(4));
  EXPECT_EQ(raw::count_elements("{\"a\":1}", 3), std::nullopt);
}

TEST(RawJsonView, ReadsTheMembersARequestNeeds) {
  std::string_view text = R"({"params":[{"id":9}],"id":"a","method":"eth_call","method":"eth_subscribe"})";
  auto view = raw::view_message(text);
  EXPECT_TRUE(view.object);
  ASSERT_TRUE(view.id && view.method && view.params);
  EXPECT_EQ(view.id->of(text), R"("a")");
  EXPECT_EQ(view.method->of(text), R"("eth_subscribe")");
  EXPECT_EQ(view.params->of(text), R"([{"id":9}])");
  EXPECT_FALSE(raw::view_message("[1]").object);
  // Escaped member names are the names they spell, as for the parser and the node.
  std::string_view escaped = R"({"\u0069d":5,"m\u0065thod":"eth_call"})";
  auto decoded = raw::view_message(escaped);
  ASSERT_TRUE(decoded.id && decoded.method);
  EXPECT_EQ(decoded.id->of(escaped), "5");
  EXPECT_EQ(decoded.method->of(escaped), R"("eth_call")");
  EXPECT_FALSE(raw::view_message(R"({"jsonrpc":"2.0"})").id);
}

TEST(RawJsonView, SaysWhetherAnAnswerHasAResultOrAnError) {
  auto answer = raw::view_message(R"({"jsonrpc":"2.0","id":1,"result":null})");
  EXPECT_TRUE(answer.result);
  EXPECT_FALSE(answer.error);
  auto refusal = raw::view_message(R"({"jsonrpc":"2.0","id":1,"\u0065rror":{"code":-1}})");
  EXPECT_FALSE(refusal.result);
  EXPECT_TRUE(refusal.error);
  auto neither = raw::view_message(R"({"jsonrpc":"2.0","id":1,"params":{"result":1}})");
  EXPECT_FALSE(neither.result);
  EXPECT_FALSE(neither.error);
}

TEST(RawJsonView, ABrokenMessageShowsTheMembersBeforeItsBreakOnlyWhenAskedTo) {
  std::string_view broken = R"({"jsonrpc":"2.0","id":7,"method":"eth_call","params":[1,)";
  EXPECT_FALSE(raw::view_message(broken).id);
  auto before = raw::view_message_before_break(broken);
  EXPECT_FALSE(before.object);
  ASSERT_TRUE(before.id);
  EXPECT_EQ(before.id->of(broken), "7");
  ASSERT_TRUE(before.method);
  EXPECT_EQ(before.method->of(broken), R"("eth_call")");
  EXPECT_FALSE(before.params);  // it is where the text breaks
  auto whole = raw::view_message_before_break(R"({"id":1,"result":2})");
  EXPECT_TRUE(whole.object);
  EXPECT_TRUE(whole.result);
}

TEST(RawJsonView, StringValuesResolveEscapes) {
  EXPECT_EQ(raw::string_value(R"("eth_call")"), "eth_call");
  EXPECT_EQ(raw::string_value(R"("eth_\u0063all")"), "eth_call");
  EXPECT_EQ(raw::string_value(R"("a\"b")"), "a\"b");
  EXPECT_FALSE(raw::string_value("12"));
}

}  // namespace
