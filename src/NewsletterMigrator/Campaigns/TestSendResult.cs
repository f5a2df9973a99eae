namespace NewsletterMigrator.Campaigns;

public enum TestSendOutcome
{
    Queued,
    /// <summary>No address was given, or one of them is not an address at all.</summary>
    Invalid,
    /// <summary>An address is neither a staff account's nor on the newsletter's test list (C45); nothing was queued.</summary>
    NotAllowed,
    /// <summary>The newsletter has no such campaign (another newsletter's id is one it does not have).</summary>
    NotFound,
}

/// <param name="Refused">The addresses that stopped the send, as given.</param>
public sealed record TestSendResult(TestSendOutcome Outcome, int Queued, IReadOnlyList<string> Refused);
