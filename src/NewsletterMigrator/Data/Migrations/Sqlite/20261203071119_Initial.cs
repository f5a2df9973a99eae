using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace NewsletterMigrator.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ApiKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Prefix = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    SecretHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Scopes = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    ExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RevokedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RevokedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    LastUsedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoles",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUsers",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    DeactivatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    InvitedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Language = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedUserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Email = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    EmailConfirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    PasswordHash = table.Column<string>(type: "TEXT", nullable: true),
                    SecurityStamp = table.Column<string>(type: "TEXT", nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "TEXT", nullable: true),
                    PhoneNumber = table.Column<string>(type: "TEXT", nullable: true),
                    PhoneNumberConfirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    TwoFactorEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    LockoutEnd = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    LockoutEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    AccessFailedCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UserName = table.Column<string>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", nullable: false),
                    Details = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "BackupRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FileName = table.Column<string>(type: "TEXT", nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    Counts = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BackupRuns", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ConsentEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SubscriberId = table.Column<Guid>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    OccurredAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    IpAddress = table.Column<string>(type: "TEXT", nullable: true),
                    UserAgent = table.Column<string>(type: "TEXT", nullable: true),
                    Page = table.Column<string>(type: "TEXT", nullable: true),
                    InvitationContactId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ConsentTextId = table.Column<int>(type: "INTEGER", nullable: true),
                    ConsentTextSha256 = table.Column<string>(type: "TEXT", nullable: true),
                    MessageId = table.Column<string>(type: "TEXT", nullable: true),
                    TemplateVersion = table.Column<string>(type: "TEXT", nullable: true),
                    DoiTextSha256 = table.Column<string>(type: "TEXT", nullable: true),
                    AgeConfirmed = table.Column<bool>(type: "INTEGER", nullable: true),
                    PrivacyNoticeVersion = table.Column<string>(type: "TEXT", nullable: true),
                    Channel = table.Column<string>(type: "TEXT", nullable: true),
                    CampaignId = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ConsentEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DeliveryEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    AtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    CampaignId = table.Column<int>(type: "INTEGER", nullable: true),
                    OutboundMessageId = table.Column<long>(type: "INTEGER", nullable: true),
                    EmailHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    StatusCode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DeliveryEvents", x => x.Id);
                });

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
                name: "JobLeases",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JobLeases", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "KeyChecks",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Sealed = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyChecks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailboxFailures",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ContentSha256 = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LastAttemptAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    GaveUpAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailboxFailures", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailboxMails",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ContentSha256 = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    ProcessedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ReceivedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    OutboundMessageId = table.Column<long>(type: "INTEGER", nullable: true),
                    Outcome = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailboxMails", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailboxStates",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", nullable: true),
                    LeaseExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastSuccessAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastErrorAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    ConsecutiveErrors = table.Column<int>(type: "INTEGER", nullable: false),
                    NeedsAttentionCount = table.Column<int>(type: "INTEGER", nullable: false),
                    NeedsAttentionOldestUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailboxStates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Newsletters",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Slug = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    SenderName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    SenderAddress = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    ReplyTo = table.Column<string>(type: "TEXT", maxLength: 320, nullable: true),
                    ControllerName = table.Column<string>(type: "TEXT", nullable: false),
                    ControllerAddress = table.Column<string>(type: "TEXT", nullable: false),
                    ControllerEmail = table.Column<string>(type: "TEXT", nullable: false),
                    DataProtectionOfficer = table.Column<string>(type: "TEXT", nullable: false),
                    SupervisoryAuthority = table.Column<string>(type: "TEXT", nullable: false),
                    Impressum = table.Column<string>(type: "TEXT", nullable: false),
                    ImpressumUrl = table.Column<string>(type: "TEXT", nullable: false),
                    PrivacyNoticeUrl = table.Column<string>(type: "TEXT", nullable: false),
                    PrivacyNoticeVersion = table.Column<string>(type: "TEXT", nullable: false),
                    TestRecipients = table.Column<string>(type: "TEXT", nullable: false),
                    DefaultRegion = table.Column<string>(type: "TEXT", maxLength: 2, nullable: false),
                    DefaultLanguage = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    InvitationMessage = table.Column<string>(type: "TEXT", nullable: false),
                    InvitationMessageEn = table.Column<string>(type: "TEXT", nullable: false),
                    MigrationEndsAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EmbedOrigins = table.Column<string>(type: "TEXT", nullable: false),
                    LogoSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    LogoWidth = table.Column<int>(type: "INTEGER", nullable: false),
                    LogoHeight = table.Column<int>(type: "INTEGER", nullable: false),
                    LogoSvg = table.Column<bool>(type: "INTEGER", nullable: false),
                    LogoMailWidth = table.Column<int>(type: "INTEGER", nullable: false),
                    LogoMailHeight = table.Column<int>(type: "INTEGER", nullable: false),
                    BrandColour = table.Column<string>(type: "TEXT", maxLength: 7, nullable: false),
                    BrandFooter = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    Archive = table.Column<int>(type: "INTEGER", nullable: false),
                    ArchiveIndexable = table.Column<bool>(type: "INTEGER", nullable: false),
                    WelcomeEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    WelcomeEnabledAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    WelcomeSubject = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    WelcomeSubjectEn = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    WelcomeMarkdown = table.Column<string>(type: "TEXT", nullable: false),
                    WelcomeMarkdownEn = table.Column<string>(type: "TEXT", nullable: false),
                    WelcomeLatestIssues = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Newsletters", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "OutboundMessages",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Priority = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    CampaignId = table.Column<int>(type: "INTEGER", nullable: true),
                    SubscriberId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ToAddress = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    Language = table.Column<string>(type: "TEXT", nullable: false),
                    MessageId = table.Column<string>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    NextAttemptAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", nullable: true),
                    LeaseExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SentAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastReply = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OutboundMessages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RateWindows",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    WindowStartUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RateWindows", x => x.Key);
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

            migrationBuilder.CreateTable(
                name: "StaffSecurityPolicies",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    RequireTwoFactor = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StaffSecurityPolicies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Suppressions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Hash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Suppressions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WhatsAppAccounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    MessagingLimit = table.Column<int>(type: "INTEGER", nullable: true),
                    MessagingLimitSource = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    MessagingLimitAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    QualityRating = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    QualityAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    GraphCheckedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    GraphError = table.Column<string>(type: "TEXT", nullable: true),
                    PausedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    PauseKind = table.Column<int>(type: "INTEGER", nullable: true),
                    PauseDetail = table.Column<string>(type: "TEXT", nullable: true),
                    ObjectionsCountFromUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    QuietUntilUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Reservations = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WhatsAppAccounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoleClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RoleId = table.Column<string>(type: "TEXT", nullable: false),
                    ClaimType = table.Column<string>(type: "TEXT", nullable: true),
                    ClaimValue = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoleClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetRoleClaims_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    ClaimType = table.Column<string>(type: "TEXT", nullable: true),
                    ClaimValue = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetUserClaims_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserLogins",
                columns: table => new
                {
                    LoginProvider = table.Column<string>(type: "TEXT", nullable: false),
                    ProviderKey = table.Column<string>(type: "TEXT", nullable: false),
                    ProviderDisplayName = table.Column<string>(type: "TEXT", nullable: true),
                    UserId = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserLogins", x => new { x.LoginProvider, x.ProviderKey });
                    table.ForeignKey(
                        name: "FK_AspNetUserLogins_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserRoles",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    RoleId = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserRoles", x => new { x.UserId, x.RoleId });
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserTokens",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    LoginProvider = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Value = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserTokens", x => new { x.UserId, x.LoginProvider, x.Name });
                    table.ForeignKey(
                        name: "FK_AspNetUserTokens_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ApiKeyNewsletter",
                columns: table => new
                {
                    ApiKeyId = table.Column<int>(type: "INTEGER", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiKeyNewsletter", x => new { x.ApiKeyId, x.NewsletterId });
                    table.ForeignKey(
                        name: "FK_ApiKeyNewsletter_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ApiKeyNewsletter_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ConsentTexts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Language = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Statement = table.Column<string>(type: "TEXT", nullable: false),
                    PrivacyInformation = table.Column<string>(type: "TEXT", nullable: false),
                    PrivacyNoticeUrl = table.Column<string>(type: "TEXT", nullable: false),
                    PrivacyNoticeVersion = table.Column<string>(type: "TEXT", nullable: false),
                    ObjectionNote = table.Column<string>(type: "TEXT", nullable: false),
                    Impressum = table.Column<string>(type: "TEXT", nullable: false),
                    Generated = table.Column<bool>(type: "INTEGER", nullable: false),
                    StatementGenerated = table.Column<bool>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FirstShownAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ConsentTexts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ConsentTexts_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ContactPhones",
                columns: table => new
                {
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    PhoneHmac = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ContactId = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ContactPhones", x => new { x.NewsletterId, x.PhoneHmac });
                    table.ForeignKey(
                        name: "FK_ContactPhones_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Feeds",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    Mode = table.Column<int>(type: "INTEGER", nullable: false),
                    AutoSend = table.Column<bool>(type: "INTEGER", nullable: false),
                    Category = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    MaxPerDay = table.Column<int>(type: "INTEGER", nullable: false),
                    DigestMinuteOfDay = table.Column<int>(type: "INTEGER", nullable: false),
                    DigestWeekdays = table.Column<int>(type: "INTEGER", nullable: false),
                    NextDigestAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    ETag = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    LastModified = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    NextPollAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastPolledAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastSuccessAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ConsecutiveFailures = table.Column<int>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Feeds", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Feeds_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ImportBatches",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    FileName = table.Column<string>(type: "TEXT", nullable: false),
                    LegalBasisKind = table.Column<string>(type: "TEXT", nullable: false),
                    LegalBasis = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    RowsRead = table.Column<int>(type: "INTEGER", nullable: false),
                    Imported = table.Column<int>(type: "INTEGER", nullable: false),
                    Duplicates = table.Column<int>(type: "INTEGER", nullable: false),
                    Invalid = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    LeaseExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TotalBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    BytesRead = table.Column<long>(type: "INTEGER", nullable: false),
                    OutcomeKey = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImportBatches", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ImportBatches_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "NewsletterLogos",
                columns: table => new
                {
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Content = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ContentType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    UploadedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    MailPng = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_NewsletterLogos", x => x.NewsletterId);
                    table.ForeignKey(
                        name: "FK_NewsletterLogos_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "StaffNewsletters",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StaffNewsletters", x => new { x.UserId, x.NewsletterId });
                    table.ForeignKey(
                        name: "FK_StaffNewsletters_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_StaffNewsletters_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Campaigns",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Subject = table.Column<string>(type: "TEXT", nullable: false),
                    Preheader = table.Column<string>(type: "TEXT", nullable: false),
                    BodyMarkdown = table.Column<string>(type: "TEXT", nullable: false),
                    BodyHtml = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CompletedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RecipientCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ScheduledForUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    PauseReason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    PausedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    ResumedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FeedId = table.Column<int>(type: "INTEGER", nullable: true),
                    Breaking = table.Column<bool>(type: "INTEGER", nullable: false),
                    ArchiveSlug = table.Column<string>(type: "TEXT", maxLength: 120, nullable: true),
                    ArchiveWithdrawnAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ArchiveWithdrawnBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Campaigns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Campaigns_Feeds_FeedId",
                        column: x => x.FeedId,
                        principalTable: "Feeds",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_Campaigns_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "FeedItems",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FeedId = table.Column<int>(type: "INTEGER", nullable: false),
                    KeyHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Link = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    Summary = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ImageUrl = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    PublishedUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FirstSeenAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    CampaignId = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FeedItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_FeedItems_Feeds_FeedId",
                        column: x => x.FeedId,
                        principalTable: "Feeds",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Contacts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    ImportBatchId = table.Column<int>(type: "INTEGER", nullable: false),
                    PhoneHmac = table.Column<byte[]>(type: "BLOB", nullable: false),
                    PhoneEncrypted = table.Column<byte[]>(type: "BLOB", nullable: true),
                    DisplayName = table.Column<string>(type: "TEXT", nullable: true),
                    InviteRevoked = table.Column<bool>(type: "INTEGER", nullable: false),
                    TokenGeneration = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    InvitedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    OpenedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SignedUpAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ConfirmedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UnsubscribedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ObjectedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    NotOnWhatsAppAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Contacts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Contacts_ImportBatches_ImportBatchId",
                        column: x => x.ImportBatchId,
                        principalTable: "ImportBatches",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Contacts_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ImportIssues",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ImportBatchId = table.Column<int>(type: "INTEGER", nullable: false),
                    Line = table.Column<int>(type: "INTEGER", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: false),
                    OriginalValue = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImportIssues", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ImportIssues_ImportBatches_ImportBatchId",
                        column: x => x.ImportBatchId,
                        principalTable: "ImportBatches",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Subscribers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    NewsletterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    EmailKey = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    Language = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    ContactId = table.Column<Guid>(type: "TEXT", nullable: true),
                    TokenGeneration = table.Column<int>(type: "INTEGER", nullable: false),
                    UnsubscribeTokenHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ConfirmTokenHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ConfirmGeneration = table.Column<int>(type: "INTEGER", nullable: false),
                    ConfirmTokenExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastDoiQueuedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ConfirmedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UnsubscribedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FirstNewsletterSentAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    WelcomeQueuedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    AccessGeneration = table.Column<int>(type: "INTEGER", nullable: false),
                    AccessTokenHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    AccessTokenExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastAccessLinkQueuedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    PendingEmail = table.Column<string>(type: "TEXT", maxLength: 320, nullable: true),
                    ChangeGeneration = table.Column<int>(type: "INTEGER", nullable: false),
                    ChangeTokenHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ChangeTokenExpiresAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Subscribers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Subscribers_Contacts_ContactId",
                        column: x => x.ContactId,
                        principalTable: "Contacts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_Subscribers_Newsletters_NewsletterId",
                        column: x => x.NewsletterId,
                        principalTable: "Newsletters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

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
                    LastErrorCode = table.Column<int>(type: "INTEGER", nullable: true),
                    DayDeferrals = table.Column<int>(type: "INTEGER", nullable: false),
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

            migrationBuilder.InsertData(
                table: "MailboxStates",
                columns: new[] { "Id", "ConsecutiveErrors", "LastError", "LastErrorAtUtc", "LastSuccessAtUtc", "LeaseExpiresAtUtc", "LeaseOwner", "NeedsAttentionCount", "NeedsAttentionOldestUtc" },
                values: new object[] { 1, 0, null, null, null, null, null, 0, null });

            migrationBuilder.InsertData(
                table: "StaffSecurityPolicies",
                columns: new[] { "Id", "RequireTwoFactor" },
                values: new object[] { 1, 1 });

            migrationBuilder.InsertData(
                table: "WhatsAppAccounts",
                columns: new[] { "Id", "GraphCheckedAtUtc", "GraphError", "MessagingLimit", "MessagingLimitAtUtc", "MessagingLimitSource", "ObjectionsCountFromUtc", "PauseDetail", "PauseKind", "PausedAtUtc", "QualityAtUtc", "QualityRating", "QuietUntilUtc", "Reservations" },
                values: new object[] { 1, null, null, null, null, null, null, null, null, null, null, null, null, 0L });

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeyNewsletter_NewsletterId",
                table: "ApiKeyNewsletter",
                column: "NewsletterId");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_Name",
                table: "ApiKeys",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_SecretHash",
                table: "ApiKeys",
                column: "SecretHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetRoleClaims_RoleId",
                table: "AspNetRoleClaims",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "RoleNameIndex",
                table: "AspNetRoles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserClaims_UserId",
                table: "AspNetUserClaims",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserLogins_UserId",
                table: "AspNetUserLogins",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserRoles_RoleId",
                table: "AspNetUserRoles",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "EmailIndex",
                table: "AspNetUsers",
                column: "NormalizedEmail");

            migrationBuilder.CreateIndex(
                name: "UserNameIndex",
                table: "AspNetUsers",
                column: "NormalizedUserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_AtUtc",
                table: "AuditEntries",
                column: "AtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_BackupRuns_FinishedAtUtc",
                table: "BackupRuns",
                column: "FinishedAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_Campaigns_FeedId_CreatedAtUtc",
                table: "Campaigns",
                columns: new[] { "FeedId", "CreatedAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_Campaigns_NewsletterId_ArchiveSlug",
                table: "Campaigns",
                columns: new[] { "NewsletterId", "ArchiveSlug" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ConsentEvents_CampaignId_Kind_OccurredAtUtc",
                table: "ConsentEvents",
                columns: new[] { "CampaignId", "Kind", "OccurredAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_ConsentEvents_SubscriberId",
                table: "ConsentEvents",
                column: "SubscriberId");

            migrationBuilder.CreateIndex(
                name: "IX_ConsentTexts_NewsletterId_Language_Version",
                table: "ConsentTexts",
                columns: new[] { "NewsletterId", "Language", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_ImportBatchId_Id",
                table: "Contacts",
                columns: new[] { "ImportBatchId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_ImportBatchId_InvitedAtUtc_Id",
                table: "Contacts",
                columns: new[] { "ImportBatchId", "InvitedAtUtc", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_NewsletterId_Id_ImportBatchId",
                table: "Contacts",
                columns: new[] { "NewsletterId", "Id", "ImportBatchId" });

            migrationBuilder.CreateIndex(
                name: "IX_Contacts_NewsletterId_InvitedAtUtc_Id_ImportBatchId",
                table: "Contacts",
                columns: new[] { "NewsletterId", "InvitedAtUtc", "Id", "ImportBatchId" });

            migrationBuilder.CreateIndex(
                name: "IX_DeliveryEvents_CampaignId_Kind_AtUtc",
                table: "DeliveryEvents",
                columns: new[] { "CampaignId", "Kind", "AtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_DeliveryEvents_EmailHash_Kind_AtUtc",
                table: "DeliveryEvents",
                columns: new[] { "EmailHash", "Kind", "AtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_DeliveryEvents_NewsletterId_AtUtc",
                table: "DeliveryEvents",
                columns: new[] { "NewsletterId", "AtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_ErasedSubscribers_EmailHash",
                table: "ErasedSubscribers",
                column: "EmailHash");

            migrationBuilder.CreateIndex(
                name: "IX_FeedItems_FeedId_KeyHash",
                table: "FeedItems",
                columns: new[] { "FeedId", "KeyHash" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_FeedItems_FeedId_State",
                table: "FeedItems",
                columns: new[] { "FeedId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_Feeds_NewsletterId",
                table: "Feeds",
                column: "NewsletterId");

            migrationBuilder.CreateIndex(
                name: "IX_Feeds_NextPollAtUtc",
                table: "Feeds",
                column: "NextPollAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_ImportBatches_NewsletterId",
                table: "ImportBatches",
                column: "NewsletterId");

            migrationBuilder.CreateIndex(
                name: "IX_ImportIssues_ImportBatchId",
                table: "ImportIssues",
                column: "ImportBatchId");

            migrationBuilder.CreateIndex(
                name: "IX_MailboxFailures_ContentSha256",
                table: "MailboxFailures",
                column: "ContentSha256",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MailboxFailures_LastAttemptAtUtc",
                table: "MailboxFailures",
                column: "LastAttemptAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_MailboxMails_ContentSha256",
                table: "MailboxMails",
                column: "ContentSha256",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MailboxMails_ProcessedAtUtc",
                table: "MailboxMails",
                column: "ProcessedAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_Newsletters_Slug",
                table: "Newsletters",
                column: "Slug",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_CampaignId_Kind_Status_SentAtUtc",
                table: "OutboundMessages",
                columns: new[] { "CampaignId", "Kind", "Status", "SentAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_CampaignId_SubscriberId",
                table: "OutboundMessages",
                columns: new[] { "CampaignId", "SubscriberId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_MessageId",
                table: "OutboundMessages",
                column: "MessageId");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_NewsletterId_Status_SentAtUtc",
                table: "OutboundMessages",
                columns: new[] { "NewsletterId", "Status", "SentAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_SentAtUtc",
                table: "OutboundMessages",
                column: "SentAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_Status_Priority_NextAttemptAtUtc",
                table: "OutboundMessages",
                columns: new[] { "Status", "Priority", "NextAttemptAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_SubscriberId",
                table: "OutboundMessages",
                column: "SubscriberId");

            migrationBuilder.CreateIndex(
                name: "IX_RateWindows_WindowStartUtc",
                table: "RateWindows",
                column: "WindowStartUtc");

            migrationBuilder.CreateIndex(
                name: "IX_RetentionRuns_StartedAtUtc",
                table: "RetentionRuns",
                column: "StartedAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_StaffNewsletters_NewsletterId",
                table: "StaffNewsletters",
                column: "NewsletterId");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_AccessTokenHash",
                table: "Subscribers",
                column: "AccessTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_ChangeTokenHash",
                table: "Subscribers",
                column: "ChangeTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_ConfirmTokenHash",
                table: "Subscribers",
                column: "ConfirmTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_ContactId",
                table: "Subscribers",
                column: "ContactId");

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_NewsletterId_EmailKey",
                table: "Subscribers",
                columns: new[] { "NewsletterId", "EmailKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_NewsletterId_Status",
                table: "Subscribers",
                columns: new[] { "NewsletterId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_UnsubscribeTokenHash",
                table: "Subscribers",
                column: "UnsubscribeTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Suppressions_Kind_Hash",
                table: "Suppressions",
                columns: new[] { "Kind", "Hash" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_AcceptedAtUtc",
                table: "WhatsAppMessages",
                column: "AcceptedAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_ContactId",
                table: "WhatsAppMessages",
                column: "ContactId");

            migrationBuilder.CreateIndex(
                name: "IX_WhatsAppMessages_NewsletterId_Status",
                table: "WhatsAppMessages",
                columns: new[] { "NewsletterId", "Status" });

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
                name: "ApiKeyNewsletter");

            migrationBuilder.DropTable(
                name: "AspNetRoleClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserLogins");

            migrationBuilder.DropTable(
                name: "AspNetUserRoles");

            migrationBuilder.DropTable(
                name: "AspNetUserTokens");

            migrationBuilder.DropTable(
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "BackupRuns");

            migrationBuilder.DropTable(
                name: "Campaigns");

            migrationBuilder.DropTable(
                name: "ConsentEvents");

            migrationBuilder.DropTable(
                name: "ConsentTexts");

            migrationBuilder.DropTable(
                name: "ContactPhones");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "DeliveryEvents");

            migrationBuilder.DropTable(
                name: "ErasedSubscribers");

            migrationBuilder.DropTable(
                name: "FeedItems");

            migrationBuilder.DropTable(
                name: "ImportIssues");

            migrationBuilder.DropTable(
                name: "JobLeases");

            migrationBuilder.DropTable(
                name: "KeyChecks");

            migrationBuilder.DropTable(
                name: "MailboxFailures");

            migrationBuilder.DropTable(
                name: "MailboxMails");

            migrationBuilder.DropTable(
                name: "MailboxStates");

            migrationBuilder.DropTable(
                name: "NewsletterLogos");

            migrationBuilder.DropTable(
                name: "OutboundMessages");

            migrationBuilder.DropTable(
                name: "RateWindows");

            migrationBuilder.DropTable(
                name: "RetentionRuns");

            migrationBuilder.DropTable(
                name: "StaffNewsletters");

            migrationBuilder.DropTable(
                name: "StaffSecurityPolicies");

            migrationBuilder.DropTable(
                name: "Subscribers");

            migrationBuilder.DropTable(
                name: "Suppressions");

            migrationBuilder.DropTable(
                name: "WhatsAppAccounts");

            migrationBuilder.DropTable(
                name: "WhatsAppMessages");

            migrationBuilder.DropTable(
                name: "ApiKeys");

            migrationBuilder.DropTable(
                name: "AspNetRoles");

            migrationBuilder.DropTable(
                name: "Feeds");

            migrationBuilder.DropTable(
                name: "AspNetUsers");

            migrationBuilder.DropTable(
                name: "Contacts");

            migrationBuilder.DropTable(
                name: "ImportBatches");

            migrationBuilder.DropTable(
                name: "Newsletters");
        }
    }
}
