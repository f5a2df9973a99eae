using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace NewsletterMigrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class Issue4_Inviting : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "InvitationMessageEn",
                table: "Newsletters",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "WhatsAppMessages",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ContactId = table.Column<Guid>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    NextAttemptAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", nullable: true),
                    LeaseExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Wamid = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    AcceptedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SentAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    DeliveredAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ReadAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FailedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    RequestedBy = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WhatsAppMessages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WhatsAppMessages_Contacts_ContactId",
                        column: x => x.ContactId,
                        principalTable: "Contacts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_ImportBatchId_Id",
                table: "Contacts",
                columns: new[] { "ImportBatchId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_ImportBatchId_InvitedAtUtc_Id",
                table: "Contacts",
                columns: new[] { "ImportBatchId", "InvitedAtUtc", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_NewsletterId_Id",
                table: "Contacts",
                columns: new[] { "NewsletterId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_NewsletterId_InvitedAtUtc_Id",
                table: "Contacts",
                columns: new[] { "NewsletterId", "InvitedAtUtc", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_ContactId",
                table: "WhatsAppMessages",
                column: "ContactId");

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_Status_NextAttemptAtUtc",
                table: "WhatsAppMessages",
                columns: new[] { "Status", "NextAttemptAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_Wamid",
                table: "WhatsAppMessages",
                column: "Wamid");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WhatsAppMessages");

            migrationBuilder.DropIndex(
                name: "IX_Contacts_ImportBatchId_Id",
                table: "Contacts");

            migrationBuilder.DropIndex(
                name: "IX_Contacts_ImportBatchId_InvitedAtUtc_Id",
                table: "Contacts");

            migrationBuilder.DropIndex(
                name: "IX_Contacts_NewsletterId_Id",
                table: "Contacts");

            migrationBuilder.DropIndex(
                name: "IX_Contacts_NewsletterId_InvitedAtUtc_Id",
                table: "Contacts");

            migrationBuilder.DropColumn(
                name: "InvitationMessageEn",
                table: "Newsletters");
        }
    }
}
