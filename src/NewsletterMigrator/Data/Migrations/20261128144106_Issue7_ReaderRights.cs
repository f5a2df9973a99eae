using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace NewsletterMigrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class Issue7_ReaderRights : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "AccessGeneration",
                table: "Subscribers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "AccessTokenExpiresAtUtc",
                table: "Subscribers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "AccessTokenHash",
                table: "Subscribers",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ChangeGeneration",
                table: "Subscribers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ChangeTokenExpiresAtUtc",
                table: "Subscribers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "ChangeTokenHash",
                table: "Subscribers",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LastAccessLinkQueuedAtUtc",
                table: "Subscribers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingEmail",
                table: "Subscribers",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ErasedSubscribers",
                columns: table => new
                {
                    SubscriberId = table.Column<Guid>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    EmailHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: false),
                    ErasedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastMailAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ErasedSubscribers", x => x.SubscriberId);
                });

            migrationBuilder.CreateTable(
                name: "RetentionRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Trigger = table.Column<string>(type: "TEXT", nullable: false),
                    UnconfirmedDeleted = table.Column<int>(type: "INTEGER", nullable: false),
                    PhoneNumbersDeleted = table.Column<int>(type: "INTEGER", nullable: false),
                    ConsentProofsDeleted = table.Column<int>(type: "INTEGER", nullable: false),
                    OutboxRowsScrubbed = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RetentionRuns", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_AccessTokenHash",
                table: "Subscribers",
                column: "AccessTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_ChangeTokenHash",
                table: "Subscribers",
                column: "ChangeTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_ErasedSubscribers_EmailHash",
                table: "ErasedSubscribers",
                column: "EmailHash");

            migrationBuilder.CreateIndex(
                name: "IX_RetentionRuns_StartedAtUtc",
                table: "RetentionRuns",
                column: "StartedAtUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ErasedSubscribers");

            migrationBuilder.DropTable(
                name: "RetentionRuns");

            migrationBuilder.DropIndex(
                name: "IX_Subscribers_AccessTokenHash",
                table: "Subscribers");

            migrationBuilder.DropIndex(
                name: "IX_Subscribers_ChangeTokenHash",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "AccessGeneration",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "AccessTokenExpiresAtUtc",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "AccessTokenHash",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "ChangeGeneration",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "ChangeTokenExpiresAtUtc",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "ChangeTokenHash",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "LastAccessLinkQueuedAtUtc",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "PendingEmail",
                table: "Subscribers");
        }
    }
}
