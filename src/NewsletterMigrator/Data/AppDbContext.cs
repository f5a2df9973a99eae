using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// The one model every feature injects. Each provider has a subclass (<see cref="SqliteAppDbContext"/>,
/// <see cref="PostgresAppDbContext"/>) only so that each keeps its own migrations; the model is the same.
/// </summary>
public abstract class AppDbContext(DbContextOptions options) : IdentityDbContext<StaffUser>(options), IDataProtectionKeyContext
{
    /// <summary>The save in progress adds, changes or removes reader data (<see cref="ReaderDataChangesInterceptor"/>).</summary>
    internal bool SavesReaderData { get; set; }

    public DbSet<Newsletter> Newsletters => Set<Newsletter>();
    public DbSet<ConsentText> ConsentTexts => Set<ConsentText>();
    public DbSet<ImportBatch> ImportBatches => Set<ImportBatch>();
    public DbSet<ImportIssue> ImportIssues => Set<ImportIssue>();
    public DbSet<Contact> Contacts => Set<Contact>();
    public DbSet<ContactPhone> ContactPhones => Set<ContactPhone>();
    public DbSet<Subscriber> Subscribers => Set<Subscriber>();
    public DbSet<ConsentEvent> ConsentEvents => Set<ConsentEvent>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<OutboundMessage> OutboundMessages => Set<OutboundMessage>();
    public DbSet<Suppression> Suppressions => Set<Suppression>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<KeyCheck> KeyChecks => Set<KeyCheck>();
    public DbSet<ErasedSubscriber> ErasedSubscribers => Set<ErasedSubscriber>();
    public DbSet<RetentionRun> RetentionRuns => Set<RetentionRun>();
    public DbSet<JobLease> JobLeases => Set<JobLease>();
    public DbSet<WhatsAppMessage> WhatsAppMessages => Set<WhatsAppMessage>();
    public DbSet<WhatsAppAccount> WhatsAppAccounts => Set<WhatsAppAccount>();
    public DbSet<BackupRun> BackupRuns => Set<BackupRun>();
    public DbSet<StaffSecurityPolicy> StaffSecurityPolicies => Set<StaffSecurityPolicy>();
    public DbSet<StaffNewsletter> StaffNewsletters => Set<StaffNewsletter>();
    public DbSet<DeliveryEvent> DeliveryEvents => Set<DeliveryEvent>();
    public DbSet<MailboxMail> MailboxMails => Set<MailboxMail>();
    public DbSet<MailboxState> MailboxStates => Set<MailboxState>();
    public DbSet<MailboxFailure> MailboxFailures => Set<MailboxFailure>();
    public DbSet<NewsletterLogo> NewsletterLogos => Set<NewsletterLogo>();
    /// <summary>ASP.NET Data Protection's key ring (cookies, antiforgery), shared by every instance on this database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<RateWindow> RateWindows => Set<RateWindow>();
    public DbSet<Feed> Feeds => Set<Feed>();
    public DbSet<FeedItem> FeedItems => Set<FeedItem>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        ApiKeyModel.ConfigureApiKeys(builder);

        builder.Entity<Newsletter>(e =>
        {
            e.HasIndex(n => n.Slug).IsUnique();
            e.Property(n => n.LogoSha256).HasMaxLength(64);
            e.Property(n => n.Slug).HasMaxLength(64);
            e.Property(n => n.Name).HasMaxLength(200);
            e.Property(n => n.SenderName).HasMaxLength(200);
            e.Property(n => n.SenderAddress).HasMaxLength(320);
            e.Property(n => n.ReplyTo).HasMaxLength(320);
            e.Property(n => n.DefaultRegion).HasMaxLength(2);
            e.Property(n => n.DefaultLanguage).HasMaxLength(8);
            e.Property(n => n.BrandColour).HasMaxLength(7);
            e.Property(n => n.BrandFooter).HasMaxLength(300);
            e.Property(n => n.WelcomeSubject).HasMaxLength(200);
            e.Property(n => n.WelcomeSubjectEn).HasMaxLength(200);
        });
        builder.Entity<NewsletterLogo>(e =>
        {
            e.HasKey(l => l.NewsletterId);
            e.HasOne<Newsletter>().WithOne().HasForeignKey<NewsletterLogo>(l => l.NewsletterId).OnDelete(DeleteBehavior.Cascade);
            e.Property(l => l.ContentType).HasMaxLength(64);
            e.Property(l => l.Sha256).HasMaxLength(64);
        });
        builder.Entity<ConsentText>(e =>
        {
            e.HasIndex(c => new { c.NewsletterId, c.Language, c.Version }).IsUnique();
            e.HasOne<Newsletter>().WithMany().HasForeignKey(c => c.NewsletterId);
        });
        builder.Entity<ImportBatch>(e =>
        {
            e.HasOne<Newsletter>().WithMany().HasForeignKey(b => b.NewsletterId);
            e.HasMany(b => b.Issues).WithOne().HasForeignKey(i => i.ImportBatchId).OnDelete(DeleteBehavior.Cascade);
            e.Property(b => b.LeaseOwner).HasMaxLength(100);
            e.Property(b => b.OutcomeKey).HasMaxLength(100);
        });
        builder.Entity<JobLease>(e =>
        {
            e.HasKey(l => l.Name);
            e.Property(l => l.Name).HasMaxLength(100);
            e.Property(l => l.Owner).HasMaxLength(100);
        });
        builder.Entity<Contact>(e =>
        {
            // No index on the HMAC here: numbers are found through ContactPhones, and invitation links by primary key
            // (TokenService.CreateAddressed), so every index an imported contact goes into has keys in the list's order.
            // The invitation queue walks contacts by id within a newsletter or import (keyset paging),
            // all of them or only the not yet invited; each step is an index seek, whatever the position.
            // The newsletter-wide indexes carry the import too, so the query filter below (completed imports
            // only) is answered from the index: counting 100,000 contacts otherwise read every table row.
            e.HasIndex(c => new { c.NewsletterId, c.Id, c.ImportBatchId });
            e.HasIndex(c => new { c.ImportBatchId, c.Id });
            e.HasIndex(c => new { c.NewsletterId, c.InvitedAtUtc, c.Id, c.ImportBatchId });
            e.HasIndex(c => new { c.ImportBatchId, c.InvitedAtUtc, c.Id });
            e.HasOne<Newsletter>().WithMany().HasForeignKey(c => c.NewsletterId);
            e.HasOne<ImportBatch>().WithMany().HasForeignKey(c => c.ImportBatchId).OnDelete(DeleteBehavior.Cascade);
            // Contacts of an import still running (or one that failed) stay invisible everywhere.
            e.HasQueryFilter(c => ImportBatches.Any(b => b.Id == c.ImportBatchId && b.Status == ImportStatus.Completed));
        });
        builder.Entity<ContactPhone>(e =>
        {
            // No foreign key to the contact: SQLite would need an index on ContactId to check it, one more random write per row.
            e.HasKey(p => new { p.NewsletterId, p.PhoneHmac });
            e.HasOne<Newsletter>().WithMany().HasForeignKey(p => p.NewsletterId);
        });
        builder.Entity<Subscriber>(e =>
        {
            e.HasIndex(s => new { s.NewsletterId, s.EmailKey }).IsUnique();
            // A campaign's fan-out walks a newsletter's confirmed readers in batches, each one range of this index (IBulkSql).
            // SQLite ends every index entry with the rowid, which its fan-out walks; PostgreSQL has no rowid, so the Id closes
            // the index there.
            if (Database.IsNpgsql()) e.HasIndex(s => new { s.NewsletterId, s.Status, s.Id });
            else e.HasIndex(s => new { s.NewsletterId, s.Status });
            e.HasIndex(s => s.UnsubscribeTokenHash).IsUnique();
            e.HasIndex(s => s.ConfirmTokenHash);
            e.Property(s => s.Email).HasMaxLength(320);
            e.Property(s => s.EmailKey).HasMaxLength(320);
            e.HasOne<Newsletter>().WithMany().HasForeignKey(s => s.NewsletterId);
            e.HasOne<Contact>().WithMany().HasForeignKey(s => s.ContactId).OnDelete(DeleteBehavior.SetNull);
        });
        builder.Entity<ConsentEvent>(e =>
        {
            e.HasIndex(c => c.SubscriberId);
            // A campaign's report counts the withdrawals attributed to it, by day: without this index every report
            // read the whole ledger (several rows per reader).
            e.HasIndex(c => new { c.CampaignId, c.Kind, c.OccurredAtUtc });
            // No foreign key to Subscriber on purpose: proof outlives the subscriber row (C17, C18).
        });
        builder.Entity<Campaign>(e =>
        {
            e.HasOne<Newsletter>().WithMany().HasForeignKey(c => c.NewsletterId);
            e.Property(c => c.PauseReason).HasMaxLength(1000);
            e.Property(c => c.PausedBy).HasMaxLength(256);
            // A feed's campaigns outlive the feed (they are the newsletter's record of what was sent).
            e.HasOne<Feed>().WithMany().HasForeignKey(c => c.FeedId).OnDelete(DeleteBehavior.SetNull);
            e.HasIndex(c => new { c.FeedId, c.CreatedAtUtc });
            // An issue's archive address is unique within its newsletter (null until sending starts).
            e.HasIndex(c => new { c.NewsletterId, c.ArchiveSlug }).IsUnique();
            e.Property(c => c.ArchiveSlug).HasMaxLength(120);
            e.Property(c => c.ArchiveWithdrawnBy).HasMaxLength(256);
        });
        FeedModel.Configure(builder);
        builder.Entity<OutboundMessage>(e =>
        {
            // A campaign fan-out can be repeated safely: one row per (campaign, subscriber).
            e.HasIndex(m => new { m.CampaignId, m.SubscriberId }).IsUnique();
            e.HasIndex(m => new { m.Status, m.Priority, m.NextAttemptAtUtc });
            e.HasIndex(m => m.SubscriberId);
            // The per-hour cap counts what left in the last hour.
            e.HasIndex(m => m.SentAtUtc);
            // A bounce without a VERP token is matched by the Message-ID of the returned mail (issue 16).
            e.HasIndex(m => m.MessageId);
            // The live progress bar counts a campaign's rows by status, and those sent in the last minute, on every
            // poll (test mails of a campaign share its id, hence the kind): without this index every poll read all
            // of a campaign's table rows, with it the counts come from the index alone.
            e.HasIndex(m => new { m.CampaignId, m.Kind, m.Status, m.SentAtUtc });
            // A newsletter's 30-day accepted count (NewsletterReputation, on every view of its campaign list) from the
            // index alone; costs the fan-out little (see NewsletterReputation and the send bench).
            e.HasIndex(m => new { m.NewsletterId, m.Status, m.SentAtUtc });
            e.Property(m => m.ToAddress).HasMaxLength(320);
        });
        builder.Entity<Suppression>(e => e.HasIndex(s => new { s.Kind, s.Hash }).IsUnique());
        builder.Entity<AuditEntry>(e => e.HasIndex(a => a.AtUtc));
        builder.Entity<RateWindow>(e =>
        {
            e.HasKey(w => w.Key);
            e.Property(w => w.Key).HasMaxLength(100);
            // The hourly sweep removes past windows by their start.
            e.HasIndex(w => w.WindowStartUtc);
        });
        builder.Entity<ErasedSubscriber>(e =>
        {
            e.HasKey(x => x.SubscriberId);
            e.HasIndex(x => x.EmailHash);
        });
        builder.Entity<RetentionRun>(e => e.HasIndex(r => r.StartedAtUtc));
        builder.Entity<Subscriber>(e =>
        {
            e.HasIndex(s => s.AccessTokenHash);
            e.HasIndex(s => s.ChangeTokenHash);
            e.Property(s => s.PendingEmail).HasMaxLength(320);
        });
        builder.Entity<WhatsAppMessage>(e =>
        {
            e.HasIndex(m => new { m.Status, m.NextAttemptAtUtc });
            e.HasIndex(m => m.ContactId);
            e.HasIndex(m => m.Wamid);
            // The moving 24-hour budget counts acceptances: one range seek.
            e.HasIndex(m => m.AcceptedAtUtc);
            // The forecast's per-newsletter queue counts (bench whatsapp-schedule: 20 → 6 ms at 100,000 queued).
            e.HasIndex(m => new { m.NewsletterId, m.Status });
            e.Property(m => m.Wamid).HasMaxLength(200);
            e.HasOne<Contact>().WithMany().HasForeignKey(m => m.ContactId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<WhatsAppAccount>(e =>
        {
            e.Property(a => a.Id).ValueGeneratedNever();
            e.Property(a => a.MessagingLimitSource).HasMaxLength(20);
            e.Property(a => a.QualityRating).HasMaxLength(20);
            e.HasData(new WhatsAppAccount { Id = WhatsAppAccount.SingleId });
        });
        // The dashboard reads the newest run.
        builder.Entity<BackupRun>(e => e.HasIndex(r => r.FinishedAtUtc));
        builder.Entity<StaffSecurityPolicy>(e =>
        {
            e.Property(p => p.Id).ValueGeneratedNever();
            e.HasData(new StaffSecurityPolicy { Id = StaffSecurityPolicy.SingleId, RequireTwoFactor = TwoFactorRequirement.Admins });
        });
        builder.Entity<StaffUser>(e => e.Property(u => u.Language).HasMaxLength(8));
        builder.Entity<DeliveryEvent>(e =>
        {
            // A campaign's report counts by campaign, kind and day; the newsletter's rates by newsletter and time.
            e.HasIndex(x => new { x.CampaignId, x.Kind, x.AtUtc });
            e.HasIndex(x => new { x.NewsletterId, x.AtUtc });
            // The soft-bounce rule counts one address's recent soft bounces.
            e.HasIndex(x => new { x.EmailHash, x.Kind, x.AtUtc });
            e.Property(x => x.StatusCode).HasMaxLength(16);
            e.Property(x => x.Source).HasMaxLength(16);
        });
        builder.Entity<MailboxMail>(e =>
        {
            e.HasIndex(x => x.ContentSha256).IsUnique();
            e.HasIndex(x => x.ProcessedAtUtc);
        });
        builder.Entity<MailboxFailure>(e =>
        {
            e.HasIndex(x => x.ContentSha256).IsUnique();
            e.HasIndex(x => x.LastAttemptAtUtc);
            e.Property(x => x.LastError).HasMaxLength(200);
        });
        builder.Entity<MailboxState>(e =>
        {
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasData(new MailboxState { Id = MailboxState.SingleId });
        });
        // An editor's newsletters: the row goes with the account and with the newsletter.
        builder.Entity<StaffNewsletter>(e =>
        {
            e.HasKey(x => new { x.UserId, x.NewsletterId });
            e.HasIndex(x => x.NewsletterId);
            e.HasOne<StaffUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Newsletter>().WithMany().HasForeignKey(x => x.NewsletterId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        GuardAppendOnly();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        GuardAppendOnly();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    // The consent ledger and the audit log are evidence: rows are added, never changed.
    private void GuardAppendOnly()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.Entity is ConsentEvent or AuditEntry
                && entry.State is EntityState.Modified or EntityState.Deleted)
            {
                throw new InvalidOperationException($"{entry.Entity.GetType().Name} rows are append-only.");
            }
        }
    }
}
