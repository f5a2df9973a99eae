using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Common;

/// <summary>
/// C20: every log line, scope and exception passes through <see cref="LogRedactor"/> before any provider sees it.
/// Log levels alone are not enough: ASP.NET Core's hosting log writes request paths with tokens
/// (<c>/i/{token}</c>, <c>/confirm/{token}</c>, <c>/u/{token}</c>, <c>/manage/…</c>) at Information before any
/// middleware runs, so the factory itself is wrapped, including providers added later (e.g. by tests).
/// </summary>
public static class LogRedaction
{
    public static IServiceCollection AddLogRedaction(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RedactingLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));
        return services;
    }
}

public static partial class LogRedactor
{
    /// <summary>Addresses, phone numbers (9 to 15 digits in any shape) and anything shaped like one of our tokens.</summary>
    public static string Redact(string? value)
    {
        if (string.IsNullOrEmpty(value)) return value ?? "";
        // Query strings carry addresses and numbers percent-encoded (%40, %2B, %20).
        if (value.Contains('%')) value = Uri.UnescapeDataString(value);
        var result = TokenPattern().Replace(value, "***");
        if (result.Contains('@')) result = AddressPattern().Replace(result, m => Common.Redact.Email(m.Value));
        result = PhonePattern().Replace(result, m =>
        {
            var digits = m.Value.Count(char.IsAsciiDigit);
            return digits is >= 9 and <= 15 ? Common.Redact.Phone(m.Value) : m.Value;
        });
        return result;
    }

    // 43 base64url characters (an HMAC-SHA256 token) standing alone, e.g. a path segment; or a run of 100 and more, the
    // Data Protection tokens of the staff links (invitation, password reset) in a query string.
    [GeneratedRegex(@"(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{100,})(?![A-Za-z0-9_-])")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"[^\s<>""'(),;:/=]+@[^\s<>""'(),;:/]+")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"(?<![\w.])\+?\d[\d \-/()+]{7,}\d(?![\w])")]
    private static partial Regex PhonePattern();
}

internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));
    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);
    public void Dispose() => inner.Dispose();
}

internal sealed class RedactingLogger(ILogger inner) : ILogger
{
    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(RedactedState.From(state));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel)) return;
        var message = LogRedactor.Redact(formatter(state, exception));
        var redacted = RedactedState.From(state, message);
        inner.Log(logLevel, eventId, redacted, exception is null ? null : new RedactedException(exception), static (s, _) => s.ToString());
    }
}

/// <summary>Structured state with every value redacted; keeps {OriginalFormat} so structured providers still work.</summary>
internal sealed class RedactedState(IReadOnlyList<KeyValuePair<string, object?>> values, string text) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public static RedactedState From<TState>(TState state, string? message = null)
    {
        var values = new List<KeyValuePair<string, object?>>();
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (key, value) in pairs)
            {
                values.Add(new(key, key == "{OriginalFormat}" || value is null or int or long or bool or double or decimal or Guid or DateTime or TimeSpan or Enum
                    ? value
                    : LogRedactor.Redact(value is IEnumerable and not string ? string.Join(", ", ((IEnumerable)value).Cast<object?>()) : value.ToString())));
            }
        }
        return new RedactedState(values, message ?? LogRedactor.Redact(state?.ToString()));
    }

    public KeyValuePair<string, object?> this[int index] => values[index];
    public int Count => values.Count;
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => text;
}

/// <summary>An exception whose message and stack text are redacted (SMTP errors quote addresses).</summary>
internal sealed class RedactedException(Exception original) : Exception(LogRedactor.Redact(original.Message))
{
    private readonly string _text = LogRedactor.Redact(original.ToString());
    public override string? StackTrace => null;
    public override string ToString() => _text;
}
