using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace NewsletterMigrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class Issue6_CampaignSending : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PauseReason",
                table: "Campaigns",
                type: "TEXT",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ScheduledForUtc",
                table: "Campaigns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_SentAtUtc",
                table: "OutboundMessages",
                column: "SentAtUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_OutboundMessages_SentAtUtc",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "PauseReason",
                table: "Campaigns");

            migrationBuilder.DropColumn(
                name: "ScheduledForUtc",
                table: "Campaigns");
        }
    }
}
