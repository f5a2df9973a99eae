namespace NewsletterMigrator.Data;

/// <summary>
/// A record asked for by id is always asked for within its newsletter (issue 13.7): an id of newsletter B under
/// newsletter A's route finds nothing, so it is shown, changed and audited as a record that does not exist.
/// Services and pages take a record by id only through these, never by its id alone.
/// </summary>
public static class NewsletterRecords
{
    public static IQueryable<Campaign> Of(this IQueryable<Campaign> campaigns, int newsletterId, int campaignId) =>
        campaigns.Where(c => c.Id == campaignId && c.NewsletterId == newsletterId);

    public static IQueryable<ImportBatch> Of(this IQueryable<ImportBatch> batches, int newsletterId, int batchId) =>
        batches.Where(b => b.Id == batchId && b.NewsletterId == newsletterId);

    public static IQueryable<Contact> Of(this IQueryable<Contact> contacts, int newsletterId, Guid contactId) =>
        contacts.Where(c => c.Id == contactId && c.NewsletterId == newsletterId);
}
