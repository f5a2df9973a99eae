namespace NewsletterMigrator;

/// <summary>Marker for Resources/SharedResource.resx (German, the default) and SharedResource.en.resx.</summary>
public sealed class SharedResource;
