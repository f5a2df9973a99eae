using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 6: every route answers a method it does not serve with 405 and an Allow header, never
/// a 500. The routes come from the app's own endpoint list, so a new page is covered without editing this.
/// </summary>
public sealed class HttpMethodTests
{
    // What a probe sends besides GET and POST: TRACE answered 500 on several pages before.
    private static readonly string[] OddMethods = ["TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "BREW"];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_route_answers_a_method_it_does_not_serve_with_405_and_never_500(bool signedInAsAdmin)
    {
        await using var app = new AppFactory(kestrel: true);
        var (newsletter, client) = await StartAsync(app, signedInAsAdmin);
        using var _ = client;

        var routes = Routes(app).ToList();
        Assert.Contains(routes, r => r.Path == "/account/login"); // the list really is the app's
        var failures = new List<string>();
        foreach (var (path, served) in routes)
        {
            var url = Fill(path, newsletter);
            foreach (var method in served.Concat(OddMethods).Distinct())
            {
                var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
                var status = (int)response.StatusCode;
                if (status >= 500) failures.Add($"{method} {url} answered {status}");
                if (served.Contains(method))
                {
                    if (status == 405) failures.Add($"{method} {url} is served but answered 405");
                    continue;
                }
                // OPTIONS asks which methods a page serves (RFC 9110, 9.3.7): routing answers it with the list, no page runs.
                var expected = method == "OPTIONS" ? 200 : 405;
                if (status != expected) failures.Add($"{method} {url} is not served but answered {status}, not {expected}");
                else if (!served.SetEquals(response.Content.Headers.Allow))
                    failures.Add($"{method} {url}: Allow '{string.Join(", ", response.Content.Headers.Allow)}', expected '{string.Join(", ", served)}'");
                else if (method == "OPTIONS" && response.Content.Headers.ContentLength != 0)
                    failures.Add($"OPTIONS {url} ran the page ({response.Content.Headers.ContentLength} bytes)");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task The_error_page_answers_every_method_because_failed_requests_of_any_method_are_shown_there()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        using var client = RealClient(app);
        foreach (var method in OddMethods.Append("GET").Append("POST"))
        {
            var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/error?code=404"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // A request refused with 405 is shown the error page in the reader's language, not an empty answer.
        var refused = await client.SendAsync(new HttpRequestMessage(new HttpMethod("TRACE"), "/n/eilmeldungen"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
        Assert.Contains("Diese Aktion ist auf dieser Seite nicht möglich", await refused.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_route_that_takes_a_POST_answers_a_malformed_form_with_a_4xx_and_never_500(bool signedInAsAdmin)
    {
        await using var app = new AppFactory(kestrel: true);
        var (newsletter, client) = await StartAsync(app, signedInAsAdmin);
        using var _ = client;

        var posts = Routes(app).Where(r => r.Served.Contains("POST")).ToList();
        Assert.Contains(posts, r => r.Path == "/u/{token}"); // the one-click unsubscribe has no antiforgery check to fail first
        var failures = new List<string>();
        foreach (var (path, _) in posts)
        {
            var url = Fill(path, newsletter);
            foreach (var (shape, body) in MalformedForms())
            {
                var response = await client.PostAsync(url, body());
                var status = (int)response.StatusCode;
                // Anonymous on a staff page: the sign-in redirect comes first, the body is never read.
                if (status == 302 && response.Headers.Location?.OriginalString.Contains("/account/login") == true) continue;
                if (status is < 400 or >= 500) failures.Add($"POST {url} with {shape} answered {status}");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>Bodies that claim to be a form and are not one the form reader can read.</summary>
    private static IEnumerable<(string Shape, Func<HttpContent> Body)> MalformedForms()
    {
        yield return ("multipart without a boundary", () => new ByteArrayContent("--x\r\n\r\nabc"u8.ToArray())
        {
            Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("multipart/form-data") },
        });
        yield return ("a multipart body cut off in its part headers", () => new ByteArrayContent("--x\r\nContent-Disposition: form-data; na"u8.ToArray())
        {
            Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x") },
        });
        // The form reader's default allows 1,024 fields.
        yield return ("1,100 fields", () => new StringContent(string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=1")),
            System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
    }

    /// <summary>The app on real Kestrel with one live newsletter, and a client that is anonymous or signed in as admin.</summary>
    private static async Task<(Newsletter Newsletter, HttpClient Client)> StartAsync(AppFactory app, bool signedInAsAdmin)
    {
        app.StartServer();
        var newsletter = await app.NewsletterAsync();
        var client = RealClient(app);
        if (signedInAsAdmin)
        {
            await app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
            Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync("admin@example.test", "long enough password")).StatusCode);
        }
        return (newsletter, client);
    }

    /// <summary>Every routable endpoint with the methods it declares (none declared: an empty set, so every probe fails).</summary>
    private static IEnumerable<(string Path, HashSet<string> Served)> Routes(AppFactory app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ISuppressMatchingMetadata>() is not { SuppressMatching: true })
            // The error page is where every failed request of any method is re-executed (see the test above).
            .Where(e => e.RoutePattern.RawText?.TrimStart('/') != "error")
            .Select(e => (Path: e.RoutePattern.RawText ?? "", Served: MethodsOf(e)))
            .GroupBy(r => r.Path, StringComparer.OrdinalIgnoreCase)
            .Select(g => ("/" + g.Key.TrimStart('/'), g.SelectMany(r => r.Served).ToHashSet(StringComparer.OrdinalIgnoreCase)));

    private static HashSet<string> MethodsOf(Endpoint endpoint) =>
        (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Plausible values for each route parameter; a new parameter name needs one here (the test says so).</summary>
    private static string Fill(string path, Newsletter newsletter)
    {
        var pattern = RoutePatternFactory.Parse(path);
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => Value(parameter, newsletter),
            _ => throw new InvalidOperationException($"Unknown route part in {path}"),
        })));
        return "/" + string.Join('/', segments);
    }

    private static string Value(RoutePatternParameterPart parameter, Newsletter newsletter)
    {
        var constraints = parameter.ParameterPolicies.Select(p => p.Content).ToList();
        if (constraints.Contains("guid")) return Guid.NewGuid().ToString();
        if (constraints.Contains("int")) return parameter.Name == "newsletterId" ? newsletter.Id.ToString() : "1";
        return parameter.Name switch
        {
            "token" => new string('B', 43),
            "slug" => newsletter.Slug,
            "culture" => "en",
            "format" => "png",
            "name" => "mail.eml",
            "sha256" => new string('a', 64),
            "archiveSlug" => "2026-12-03-eilmeldung", // issue 21: an archived issue's address
            "language" => "de", // issue 21: the welcome preview per language
            _ => throw new InvalidOperationException($"HttpMethodTests needs a plausible value for the route parameter '{parameter.Name}'."),
        };
    }

    private static HttpClient RealClient(AppFactory app) => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
    };
}
