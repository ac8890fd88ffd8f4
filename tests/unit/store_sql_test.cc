// Pure unit tests of the store's driver helpers: no database needed.
#include <gtest/gtest.h>

#include "store/driver_util.h"
#include "store/postgres/pg_database.h"
#include "store/sql.h"

namespace atrium::store {
namespace {

TEST(StoreSql, RowsAccessors) {
  Rows rows;
  rows.columns = {"a", "b", "c", "d"};
  rows.cells.push_back({std::string("42"), std::nullopt, std::string("t"), std::string("2.5")});
  rows.cells.push_back({std::string("-7"), std::string("x"), std::string("0"), std::string("1")});
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.integer(0, 0), 42);
  EXPECT_EQ(rows.integer(1, 0), -7);
  EXPECT_TRUE(rows.isNull(0, 1));
  EXPECT_EQ(rows.text(0, 1), "");
  EXPECT_EQ(rows.optText(0, 1), std::nullopt);
  EXPECT_EQ(rows.optInteger(0, 1), std::nullopt);
  EXPECT_EQ(rows.integer(0, 1), 0);
  EXPECT_EQ(rows.text(1, 1), "x");
  EXPECT_TRUE(rows.boolean(0, 2));
  EXPECT_FALSE(rows.boolean(1, 2));
  EXPECT_DOUBLE_EQ(rows.real(0, 3), 2.5);
  EXPECT_TRUE(rows.boolean(1, 3));
}

TEST(StoreSql, FieldFromConstraintName) {
  EXPECT_EQ(fieldFromConstraintName("systems_name_key"), "name");
  EXPECT_EQ(fieldFromConstraintName("systems_serial_number_key"), "serial_number");
  EXPECT_EQ(fieldFromConstraintName("folders_name_key"), "name");
}

TEST(StoreSql, DialectNames) {
  EXPECT_EQ(dialectName(Dialect::kSqlite), "sqlite");
  EXPECT_EQ(dialectName(Dialect::kPostgres), "postgres");
}

TEST(StoreSql, RedactsPostgresPasswords) {
  EXPECT_EQ(redactPostgresUrl("postgresql://u:p%40ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redactPostgresUrl("password=abc host=h"), "password=*** host=h");
  EXPECT_EQ(redactPostgresUrl("host=h dbname=atrium"), "host=h dbname=atrium");
}

}  // namespace
}  // namespace atrium::store
